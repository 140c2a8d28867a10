// What CodexRunner adds to a Codex turn: median wall time of a one-message turn through
// CodexRunner.runTurn against the same turn driven by a minimal hand-written app-server loop
// (spawn, initialize, thread/start, turn/start, wait for turn/completed, EOF, wait for exit).
// Same binary, flags, CODEX_HOME and scripted model; runs interleaved so machine load hits both.
//
// From the repository root (compiles only what the benchmark imports; N defaults to 15):
//   npx tsc bench/codex-overhead.ts --outDir /tmp/codex-bench --rootDir . --target es2022 --module commonjs \
//     --moduleResolution node --esModuleInterop --skipLibCheck --strict --types node
//   NODE_PATH=$PWD/node_modules node /tmp/codex-bench/bench/codex-overhead.js [N]
import { makeCodexEnv } from '../test/support/codex-env';
import { ScriptedModel } from '../test/support/scripted-model';
import { rawTurn } from './lib/raw-turn';

const WARMUP = 2;

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 15);
  const model = await ScriptedModel.start(() => ({
    items: [{ type: 'message', text: 'pong', phase: 'final_answer' }],
  }));
  const env = await makeCodexEnv({ modelUrl: model.url });
  try {
    const runner = env.runner();
    const viaRunner = () =>
      timed(async () => {
        const result = await runner.runTurn(env.turnInput({ prompt: 'ping' }));
        if (result.status !== 'completed')
          throw new Error(`runner turn ended ${result.status}: ${result.error?.message}`);
      });
    const raw = () => timed(() => rawTurn(runner, env.workDir));

    for (let i = 0; i < WARMUP; i++) {
      await viaRunner();
      await raw();
    }
    const runnerMs: number[] = [];
    const rawMs: number[] = [];
    for (let i = 0; i < n; i++) {
      // Alternate which goes first, so neither always inherits the other's after-effects.
      if (i % 2 === 0) {
        runnerMs.push(await viaRunner());
        rawMs.push(await raw());
      } else {
        rawMs.push(await raw());
        runnerMs.push(await viaRunner());
      }
    }
    const r = median(runnerMs);
    const b = median(rawMs);
    console.log(`one-message turn, N=${n} each (interleaved, after ${WARMUP} warm-up rounds)`);
    console.log(
      `  raw app-server loop   median ${b.toFixed(1)} ms   (min ${Math.min(...rawMs).toFixed(1)}, max ${Math.max(...rawMs).toFixed(1)})`,
    );
    console.log(
      `  CodexRunner.runTurn   median ${r.toFixed(1)} ms   (min ${Math.min(...runnerMs).toFixed(1)}, max ${Math.max(...runnerMs).toFixed(1)})`,
    );
    const diff = r - b;
    console.log(`  ratio runner/raw      ${(r / b).toFixed(3)}   (${diff >= 0 ? '+' : ''}${diff.toFixed(1)} ms)`);
  } finally {
    await model.close();
    await env.cleanup();
  }
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
