// The sweep of a dead worker's leftovers: a process whose owning worker is gone is ended, one whose
// owner lives is left alone — and a worker killed but not yet reaped by its parent (a zombie) is gone.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { POOL_OWNER_ENV, poolOwnerId, sweepOrphanedPools } from '../../activities/codex/process-sweep';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

function start(command: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn('sh', ['-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
  started.push(child);
  return child;
}

const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !stateOf(pid).match(/[ZX]/);
function stateOf(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function firstLine(child: ChildProcess): Promise<string> {
  let out = '';
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    if (out.includes('\n')) break;
  }
  return out.trim();
}

test("a worker's leftovers are ended once it is gone, also while it is an unreaped zombie", async () => {
  // The "worker": a process that exits while its parent (a `sleep` that never waits) does not reap it.
  const holder = start('sleep 0.3 & echo $!; exec sleep 300');
  const worker = Number(await firstLine(holder));
  const owner = poolOwnerId(worker); // taken while it runs, as its pool would
  const leftover = start('exec sleep 300', { [POOL_OWNER_ENV]: owner });
  const kept = start('exec sleep 300', { [POOL_OWNER_ENV]: poolOwnerId(process.pid) });
  while (stateOf(worker) !== 'Z') await sleep(50);

  expect(sweepOrphanedPools()).toBeGreaterThanOrEqual(1);
  await sleep(200);
  expect(alive(leftover.pid!)).toBe(false);
  expect(alive(kept.pid!)).toBe(true); // its owner (this process) lives
});
