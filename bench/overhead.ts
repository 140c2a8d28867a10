// What the bridge adds to a Codex turn. Five paths, same binary, flags, CODEX_HOME and scripted
// model (answers "pong" at once), interleaved in rotating order so machine load hits all alike:
//   raw            a hand-written loop on a cold app-server (the protocol exchange and nothing else);
//   runner         CodexRunner.runTurn with an app-server spawned for the turn (CODEX_BRIDGE_APP_SERVERS=0);
//   runnerPooled   CodexRunner.runTurn on the pool of warm app-servers (the default);
//   bridge         TaskService.start → workflow → the real Codex activity on an in-process worker →
//                  notifier called (MongoDB mirror writes included), an app-server per turn;
//   bridgePooled   the same with the worker's pooled app-servers (the default);
//   bridgeAdmission  bridgePooled through the admission queue (a slot asked for and given back).
import { randomUUID } from 'node:crypto';
import { CodexRunner } from '../activities/codex/codex-runner';
import { makeCodexEnv } from '../test/support/codex-env';
import { ScriptedModel } from '../test/support/scripted-model';
import type { BenchEnv } from './lib/bench-env';
import { DeliveryRecorder } from './lib/bench-env';
import type { BenchOptions } from './lib/options';
import { rawTurn } from './lib/raw-turn';
import { now, summarize, type Summary } from './lib/stats';

export const OVERHEAD_PATHS = ['raw', 'runner', 'runnerPooled', 'bridge', 'bridgePooled', 'bridgeAdmission'] as const;
export type OverheadPath = (typeof OVERHEAD_PATHS)[number];
export type OverheadResult = Record<OverheadPath, Summary>;

const WARMUP = 2;

export async function benchOverhead(
  env: BenchEnv,
  opts: BenchOptions,
  log: (line: string) => void,
): Promise<OverheadResult> {
  const model = await ScriptedModel.start(() => ({
    items: [{ type: 'message', text: 'pong', phase: 'final_answer' }],
  }));
  const codex = await makeCodexEnv({ modelUrl: model.url });
  try {
    const runner = new CodexRunner(codex.runnerOptions({ appServers: 0 }));
    const pooledRunner = new CodexRunner(codex.runnerOptions({ appServers: 2 }));
    const codexVars = {
      CODEX_HOME: codex.codexHome,
      CODEX_BRIDGE_CODEX_CONFIG: JSON.stringify(codex.configOverrides),
      CODEX_BRIDGE_ALLOWED_ROOTS: codex.root,
    };
    const config = env.config('overhead', { ...codexVars, CODEX_BRIDGE_APP_SERVERS: '0' });
    const pooledConfig = env.config('overhead-pool', codexVars);
    const admissionConfig = env.config('overhead-admission', { ...codexVars, CODEX_BRIDGE_ADMISSION: 'on' });
    const { service } = await env.service(config);
    const pooledService = (await env.service(pooledConfig)).service;
    const admissionService = (await env.service(admissionConfig)).service;
    const recorder = new DeliveryRecorder();

    const timed = async (fn: () => Promise<void>): Promise<number> => {
      const start = now();
      await fn();
      return now() - start;
    };
    const viaRunner = (r: CodexRunner) => () =>
      timed(async () => {
        const result = await r.runTurn(codex.turnInput({ prompt: 'ping' }));
        if (result.status !== 'completed')
          throw new Error(`runner turn ended ${result.status}: ${result.error?.message}`);
      });
    const viaBridge = (s: typeof service) => () =>
      timed(async () => {
        const task_id = `overhead-${randomUUID().slice(0, 8)}`;
        await s.start({
          task_id,
          prompt: 'ping',
          cwd: codex.workDir,
          notify_target: 'local',
          sandbox: 'danger-full-access',
          approval_policy: 'never',
        });
        await recorder.wait(task_id, 120_000);
      });
    const paths: Record<OverheadPath, () => Promise<number>> = {
      raw: () => timed(() => rawTurn(runner, codex.workDir)),
      runner: viaRunner(runner),
      runnerPooled: viaRunner(pooledRunner),
      bridge: viaBridge(service),
      bridgePooled: viaBridge(pooledService),
      bridgeAdmission: viaBridge(admissionService),
    };
    const samples = Object.fromEntries(OVERHEAD_PATHS.map((p) => [p, [] as number[]])) as Record<
      OverheadPath,
      number[]
    >;
    const order = [...OVERHEAD_PATHS];
    // Three workers (an app-server per turn, pooled, pooled with admission), each with the real worker dependencies
    // (Codex runner, relay, progress reporter, MongoDB store) except the notifier, which records.
    try {
      await env.withWorker(config, { notifier: recorder.notifier }, () =>
        env.withWorker(pooledConfig, { notifier: recorder.notifier }, () =>
          env.withWorker(admissionConfig, { notifier: recorder.notifier }, async () => {
            for (let i = 0; i < WARMUP; i++) for (const p of order) await paths[p]();
            for (let i = 0; i < opts.overheadSamples; i++) {
              const rotated = [...order.slice(i % order.length), ...order.slice(0, i % order.length)];
              for (const p of rotated) samples[p].push(await paths[p]());
            }
          }),
        ),
      );
    } finally {
      await pooledRunner.close();
    }
    log(`overhead: ${opts.overheadSamples} samples per path`);
    return Object.fromEntries(OVERHEAD_PATHS.map((p) => [p, summarize(samples[p])])) as OverheadResult;
  } finally {
    await model.close();
    await codex.cleanup();
  }
}
