// Worker memory: the real `codex-bridge worker` process (bin/codex-bridge.js, configuration from
// the environment, as deployed) running N Codex turns at once against a model that takes 4 s per
// answer, so that all N turns are in flight together. VmRSS of the worker process is sampled every
// 100 ms from /proc/<pid>/status; the app-servers are separate processes, sampled too (with
// everything they started). Once with an app-server spawned per turn, once with the pool.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ManagedProcess } from '../src/infra/managed-process';
import { PROJECT_ROOT } from '../src/infra/tool-paths';
import { WORKER_NODE_FLAGS } from '../src/worker-memory';
import type { TaskStore } from '../src/store/task-store';
import { makeCodexEnv, processesUsing } from '../test/support/codex-env';
import { PacedModel } from '../test/support/paced-model';
import type { BenchEnv } from './lib/bench-env';
import type { BenchOptions } from './lib/options';
import { median, sleep } from './lib/stats';

export interface RssResult {
  label: string;
  tasks: number;
  rounds: number;
  /** Worker RSS after a warm-up task, idle. */
  idleBytes: number;
  /** Median over rounds of the peak worker RSS while the turns ran. */
  peakBytes: number;
  /** Worker RSS once the rounds are over and the worker idles again. */
  afterBytes: number;
  /** VmHWM: the worker's high-water mark since it started (includes bundling the workflow code). */
  highWaterBytes: number;
  /** Median over rounds of the most app-servers alive at once, and of their summed RSS then. */
  appServersPeak: number;
  appServersPeakBytes: number;
}

const MODEL_DELAY_MS = 4000;

/** The two ways a worker runs app-servers, measured one after the other. */
const MODES = [
  { label: 'app-server per turn', env: { CODEX_BRIDGE_APP_SERVERS: '0' } },
  { label: 'pooled app-servers', env: {} },
];

export async function benchRss(env: BenchEnv, opts: BenchOptions, log: (line: string) => void): Promise<RssResult[]> {
  const results: RssResult[] = [];
  for (const mode of MODES) results.push(await benchRssOf(mode.label, mode.env, env, opts, log));
  return results;
}

async function benchRssOf(
  label: string,
  extraEnv: NodeJS.ProcessEnv,
  env: BenchEnv,
  opts: BenchOptions,
  log: (line: string) => void,
): Promise<RssResult> {
  const cli = path.join(PROJECT_ROOT, 'bin', 'codex-bridge.js');
  const model = await PacedModel.start({ delayMs: (i) => (i === 0 ? 0 : MODEL_DELAY_MS) });
  const codex = await makeCodexEnv({ modelUrl: model.url });
  const config = env.config('rss', {
    CODEX_HOME: codex.codexHome,
    CODEX_BRIDGE_CODEX_CONFIG: JSON.stringify(codex.configOverrides),
    CODEX_BRIDGE_ALLOWED_ROOTS: codex.root,
    ...extraEnv,
  });
  const { service, store } = await env.service(config);
  const worker = new ManagedProcess({
    name: 'bench-worker',
    command: process.execPath,
    args: [...WORKER_NODE_FLAGS, cli, 'worker'], // as `codex-bridge dev` starts it
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env.envFor(config) },
    logFile: path.join(env.dir, 'rss-worker.log'),
  });
  try {
    const pid = worker.pid!;
    const startTasks = async (n: number, prefix: string) => {
      const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}-${randomUUID().slice(0, 6)}`);
      await Promise.all(
        ids.map((task_id) =>
          service.start({
            task_id,
            prompt: 'hold on',
            cwd: codex.workDir,
            notify_target: 'local',
            sandbox: 'danger-full-access',
          }),
        ),
      );
      return ids;
    };
    await waitNotified(store, await startTasks(1, 'rss-warm'), 120_000, () => worker.alive);
    await sleep(2000);
    const idleBytes = vmRss(pid, 'VmRSS');

    const peaks: number[] = [];
    const appPeaks: number[] = [];
    const appPeakBytes: number[] = [];
    for (let r = 0; r < opts.rssRounds; r++) {
      let peak = 0;
      let apps = 0;
      let appsBytes = 0;
      let sampling = true;
      const sampler = (async () => {
        for (let tick = 0; sampling; tick++) {
          peak = Math.max(peak, vmRss(pid, 'VmRSS'));
          if (tick % 5 === 0) {
            const servers = appServers(codex.codexHome);
            apps = Math.max(apps, servers.length);
            // Everything but the worker that runs with the scenario's CODEX_HOME: app-servers and what they started.
            const codexSide = processesUsing(codex.codexHome).filter((p) => p !== pid);
            appsBytes = Math.max(
              appsBytes,
              codexSide.reduce((sum, p) => sum + vmRss(p, 'VmRSS'), 0),
            );
          }
          await sleep(100);
        }
      })();
      const ids = await startTasks(opts.rssTasks, `rss-${r}`);
      await waitNotified(store, ids, 5 * 60_000, () => worker.alive);
      sampling = false;
      await sampler;
      peaks.push(peak);
      appPeaks.push(apps);
      appPeakBytes.push(appsBytes);
      log(
        `rss (${label}) round ${r + 1}: worker peak ${(peak / 2 ** 20).toFixed(1)} MiB, ${apps} app-servers at once (${(appsBytes / 2 ** 20).toFixed(0)} MiB together)`,
      );
    }
    await sleep(2000);
    return {
      label,
      tasks: opts.rssTasks,
      rounds: opts.rssRounds,
      idleBytes,
      peakBytes: median(peaks),
      afterBytes: vmRss(pid, 'VmRSS'),
      highWaterBytes: vmRss(pid, 'VmHWM'),
      appServersPeak: median(appPeaks),
      appServersPeakBytes: median(appPeakBytes),
    };
  } finally {
    await worker.stop();
    await model.close();
    await codex.cleanup();
  }
}

/** A /proc/<pid>/status field in bytes (0 when the process is gone). */
function vmRss(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function appServers(codexHome: string): number[] {
  return processesUsing(codexHome).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('app-server');
    } catch {
      return false;
    }
  });
}

async function waitNotified(store: TaskStore, ids: string[], timeoutMs: number, alive: () => boolean): Promise<void> {
  const pending = new Set(ids);
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0) {
    for (const id of [...pending]) {
      const doc = await store.get(id);
      if (doc?.notification_status === 'sent') pending.delete(id);
      else if (doc?.notification_status === 'failed')
        throw new Error(`task ${id} could not be notified: ${doc.notification_error}`);
    }
    if (pending.size === 0) return;
    if (!alive()) throw new Error('the worker process exited; see rss-worker.log in the bench directory');
    if (Date.now() > deadline) throw new Error(`${pending.size} tasks not notified within ${timeoutMs} ms`);
    await sleep(250);
  }
}
