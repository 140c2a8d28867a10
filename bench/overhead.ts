// What the bridge adds to a Codex turn. Three paths, same binary, flags, CODEX_HOME and scripted
// model (answers "pong" at once), interleaved in rotating order so machine load hits all alike:
//   raw     a hand-written app-server loop (the protocol exchange and nothing else);
//   runner  CodexRunner.runTurn (what the activity runs);
//   bridge  TaskService.start → workflow → the real Codex activity on an in-process worker →
//           notifier called (MongoDB mirror writes included).
import { randomUUID } from 'node:crypto';
import { CodexRunner } from '../activities/codex/codex-runner';
import { makeCodexEnv } from '../test/support/codex-env';
import { ScriptedModel } from '../test/support/scripted-model';
import type { BenchEnv } from './lib/bench-env';
import { DeliveryRecorder } from './lib/bench-env';
import type { BenchOptions } from './lib/options';
import { rawTurn } from './lib/raw-turn';
import { now, summarize, type Summary } from './lib/stats';

export interface OverheadResult {
  raw: Summary;
  runner: Summary;
  bridge: Summary;
}

const WARMUP = 2;

export async function benchOverhead(env: BenchEnv, opts: BenchOptions, log: (line: string) => void): Promise<OverheadResult> {
  const model = await ScriptedModel.start(() => ({ items: [{ type: 'message', text: 'pong', phase: 'final_answer' }] }));
  const codex = await makeCodexEnv({ modelUrl: model.url });
  try {
    const runner = new CodexRunner(codex.runnerOptions());
    const config = env.config('overhead', {
      CODEX_HOME: codex.codexHome,
      CODEX_BRIDGE_CODEX_CONFIG: JSON.stringify(codex.configOverrides),
      CODEX_BRIDGE_ALLOWED_ROOTS: codex.root,
    });
    const { service } = await env.service(config);
    const recorder = new DeliveryRecorder();

    const timed = async (fn: () => Promise<void>): Promise<number> => {
      const start = now();
      await fn();
      return now() - start;
    };
    const paths: Record<'raw' | 'runner' | 'bridge', () => Promise<number>> = {
      raw: () => timed(() => rawTurn(runner, codex.workDir)),
      runner: () =>
        timed(async () => {
          const result = await runner.runTurn(codex.turnInput({ prompt: 'ping' }));
          if (result.status !== 'completed') throw new Error(`runner turn ended ${result.status}: ${result.error?.message}`);
        }),
      bridge: () =>
        timed(async () => {
          const task_id = `overhead-${randomUUID().slice(0, 8)}`;
          await service.start({ task_id, prompt: 'ping', cwd: codex.workDir, notify_target: 'local', sandbox: 'danger-full-access', approval_policy: 'never' });
          await recorder.wait(task_id, 120_000);
        }),
    };
    const samples: Record<keyof typeof paths, number[]> = { raw: [], runner: [], bridge: [] };
    const order: (keyof typeof paths)[] = ['raw', 'runner', 'bridge'];
    // The real worker dependencies (Codex runner, relay, progress reporter, MongoDB store), except
    // the notifier, which records instead of posting.
    await env.withWorker(config, { notifier: recorder.notifier }, async () => {
      for (let i = 0; i < WARMUP; i++) for (const p of order) await paths[p]();
      for (let i = 0; i < opts.overheadSamples; i++) {
        const rotated = [...order.slice(i % 3), ...order.slice(0, i % 3)];
        for (const p of rotated) samples[p].push(await paths[p]());
      }
    });
    log(`overhead: ${opts.overheadSamples} samples per path`);
    return { raw: summarize(samples.raw), runner: summarize(samples.runner), bridge: summarize(samples.bridge) };
  } finally {
    await model.close();
    await codex.cleanup();
  }
}
