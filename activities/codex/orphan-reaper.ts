// A worker that crashed mid-turn leaves its app-server running (it was spawned detached, in its own
// process group). The next attempt finds the pid and process tag in the previous attempt's
// heartbeat and ends them before starting again — but only a pid that is provably that app-server.
import * as fs from 'node:fs';
import { signalGroup } from '../../src/infra/managed-process';
import { killTaggedProcesses, PROCESS_TAG_ENV, taggedProcesses } from './process-sweep';

export interface OrphanReport {
  pid: number | null;
  /** Something of the previous attempt was still running and has been ended. */
  reaped: boolean;
}

/** Ends the previous attempt's app-server (and what it started) named by `heartbeatDetails`. */
export async function reapOrphanAppServer(heartbeatDetails: unknown, graceMs = 500): Promise<OrphanReport | null> {
  const details = heartbeatDetails as { pid?: unknown; processTag?: unknown } | null | undefined;
  const pid = typeof details?.pid === 'number' && Number.isInteger(details.pid) && details.pid > 1 ? details.pid : null;
  const tag = typeof details?.processTag === 'string' && details.processTag !== '' ? details.processTag : null;
  if (pid === null && tag === null) return null;
  let reaped = false;
  let killedPid = false;
  // A pooled app-server (shared with other turns) does not carry the turn's tag: it is left alone,
  // and only what the turn started is ended.
  if (pid !== null && isThatAppServer(pid, tag)) {
    // The runner makes each app-server a process-group leader.
    signalGroup(pid, 'SIGKILL');
    reaped = killedPid = true;
  }
  if (tag !== null && taggedProcesses(tag).length > 0) {
    await killTaggedProcesses(tag, graceMs);
    reaped = true;
  }
  const deadline = Date.now() + 5000;
  while (pid !== null && killedPid && isLive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  return { pid, reaped };
}

// A pid can be reused: with a tag the process must carry it; without one (an older heartbeat) it
// must at least be a `codex app-server` leading its own process group.
function isThatAppServer(pid: number, tag: string | null): boolean {
  if (!isLive(pid)) return false;
  try {
    if (tag !== null)
      return fs.readFileSync(`/proc/${pid}/environ`).includes(Buffer.from(`${PROCESS_TAG_ENV}=${tag}\0`));
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return args.some((a) => /(^|\/)codex$/.test(a)) && args.includes('app-server') && pgrp === pid;
  } catch {
    return false;
  }
}

function isLive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
