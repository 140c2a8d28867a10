// Process-group helpers for what ManagedProcess does not cover: groups whose leader already exited
// (a crashed worker can leave a Codex app-server behind) and groups left by a previous launcher
// that was killed before it could stop its children.
import * as fs from 'node:fs';

/** True while any process (not a zombie) is in the group. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // kill(2) also succeeds for zombies, which hold no port or file; /proc tells them apart.
  if (!fs.existsSync('/proc')) return true;
  return listGroup(pgid).some((pid) => processState(pid) !== 'Z');
}

/** SIGTERM to the group, SIGKILL after graceMs, resolves once the group is empty (or 2 s after SIGKILL). */
export async function stopGroup(pgid: number, graceMs: number): Promise<void> {
  signal(pgid, 'SIGTERM');
  if (await waitGroupGone(pgid, graceMs)) return;
  signal(pgid, 'SIGKILL');
  await waitGroupGone(pgid, 2000);
}

/** SIGKILL the group at once (a second Ctrl-C). */
export function killGroup(pgid: number): void {
  signal(pgid, 'SIGKILL');
}

/** The command line of a live process, or null (gone, or no /proc on this system). */
export function commandLine(pid: number): string[] | null {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((part, i, all) => part !== '' || i < all.length - 1);
  } catch {
    return null;
  }
}

/** The one-letter state from /proc/<pid>/stat (R, S, Z, …), or null when the process is gone. */
export function processState(pid: number): string | null {
  const stat = readStat(pid);
  return stat ? stat.state : null;
}

/** Pids whose process group is pgid, from /proc. */
export function listGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgid === pgid) pids.push(Number(entry));
  }
  return pids;
}

async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

function signal(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* already gone */
  }
}

// /proc/<pid>/stat is "pid (comm) state ppid pgrp …"; comm may contain spaces and parentheses,
// so the fields are read after the last ')'.
function readStat(pid: number): { state: string; pgid: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, pgid: Number(fields[2]) };
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
