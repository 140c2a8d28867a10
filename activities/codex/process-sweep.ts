// Finding every process an app-server left behind, including the ones that left its process group:
// a login shell's background job (`pyenv rehash &` from a .bashrc), a `nohup … &` the model ran.
// Each app-server gets a unique tag in its environment, which its descendants inherit; the sweep
// ends every live process that carries it (Linux /proc; elsewhere the process-group kill remains).
import * as fs from 'node:fs';

export const PROCESS_TAG_ENV = 'CODEX_BRIDGE_PROCESS_TAG';

/** Live processes (zombies excluded) whose environment carries `tag`. */
export function taggedProcesses(tag: string): number[] {
  const needle = Buffer.from(`${PROCESS_TAG_ENV}=${tag}\0`);
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!fs.readFileSync(`/proc/${entry}/environ`).includes(needle)) continue;
      if (!isZombie(Number(entry))) found.push(Number(entry));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

/** SIGTERM every tagged process, SIGKILL what is left after graceMs; resolves when none is left. */
export async function killTaggedProcesses(tag: string, graceMs: number): Promise<void> {
  let left = signalAll(taggedProcesses(tag), 'SIGTERM');
  const termDeadline = Date.now() + graceMs;
  while (left.length > 0 && Date.now() < termDeadline) {
    await sleep(25);
    left = taggedProcesses(tag);
  }
  for (let round = 0; left.length > 0 && round < 40; round++) {
    signalAll(left, 'SIGKILL');
    await sleep(25);
    left = taggedProcesses(tag);
  }
}

function signalAll(pids: number[], signal: NodeJS.Signals): number[] {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
  return pids;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** In the environment of a pooled app-server and what it starts: the worker that owns them. */
export const POOL_OWNER_ENV = 'CODEX_BRIDGE_POOL_OWNER';

/** This process as an owner: pid and start time, so that a reused pid is not mistaken for it. */
export function poolOwnerId(pid = process.pid): string {
  return `${pid}-${processStartTime(pid) ?? 'unknown'}`;
}

/**
 * Ends every process whose owning worker is gone: app-servers of a worker that was killed (they
 * normally exit with it) and whatever they started that outlived them. Returns how many it ended.
 */
export function sweepOrphanedPools(): number {
  const needle = Buffer.from(`\0${POOL_OWNER_ENV}=`);
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return 0;
  }
  const owners = new Map<string, boolean>();
  let ended = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let owner: string;
    try {
      const environ = Buffer.concat([Buffer.from('\0'), fs.readFileSync(`/proc/${entry}/environ`)]);
      const at = environ.indexOf(needle);
      if (at < 0) continue;
      const start = at + needle.length;
      owner = environ.subarray(start, environ.indexOf(0, start)).toString('utf8');
    } catch {
      continue; // gone, or not ours to read
    }
    let alive = owners.get(owner);
    if (alive === undefined) {
      const pid = Number(owner.split('-')[0]);
      // A killed worker its parent has not reaped yet is a zombie: gone, though its pid still reads.
      alive = Number.isInteger(pid) && pid > 0 && liveOwnerId(pid) === owner;
      owners.set(owner, alive);
    }
    if (alive) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      ended += 1;
    } catch {
      /* already gone */
    }
  }
  return ended;
}

/** A process that has exited (or is gone) but whose parent has not reaped it yet reads as a zombie. */
function isZombie(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === undefined || state === 'Z' || state === 'X';
}

/** The process's owner id (see poolOwnerId) while it runs; null once it is gone or a zombie. */
function liveOwnerId(pid: number): string | null {
  const fields = statFields(pid);
  return fields && fields[0] !== 'Z' && fields[0] !== 'X' ? `${pid}-${fields[19]}` : null;
}

function processStartTime(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** The fields of /proc/<pid>/stat after the command name (state first); null when it cannot be read. */
function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
