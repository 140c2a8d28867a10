// What CodexRunner adds to a Codex turn: median wall time of a one-message turn through
// CodexRunner.runTurn against the same turn driven by a minimal hand-written app-server loop
// (spawn, initialize, thread/start, turn/start, wait for turn/completed, EOF, wait for exit).
// Same binary, flags, CODEX_HOME and scripted model; runs interleaved so machine load hits both.
//
// From the repository root (compiles only what the benchmark imports; N defaults to 15):
//   npx tsc bench/codex-overhead.ts --outDir /tmp/codex-bench --rootDir . --target es2022 --module commonjs \
//     --moduleResolution node --esModuleInterop --skipLibCheck --strict --types node
//   NODE_PATH=$PWD/node_modules node /tmp/codex-bench/bench/codex-overhead.js [N]
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';
import type { CodexRunner } from '../activities/codex/codex-runner';
import { makeCodexEnv, type CodexTestEnv } from '../test/support/codex-env';
import { ScriptedModel } from '../test/support/scripted-model';

const WARMUP = 2;

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 15);
  const model = await ScriptedModel.start(() => ({ items: [{ type: 'message', text: 'pong', phase: 'final_answer' }] }));
  const env = await makeCodexEnv({ modelUrl: model.url });
  try {
    const runner = env.runner();
    const viaRunner = () => timed(async () => {
      const result = await runner.runTurn(env.turnInput({ prompt: 'ping' }));
      if (result.status !== 'completed') throw new Error(`runner turn ended ${result.status}: ${result.error?.message}`);
    });
    const raw = () => timed(() => rawTurn(runner, env));

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
    console.log(`  raw app-server loop   median ${b.toFixed(1)} ms   (min ${Math.min(...rawMs).toFixed(1)}, max ${Math.max(...rawMs).toFixed(1)})`);
    console.log(`  CodexRunner.runTurn   median ${r.toFixed(1)} ms   (min ${Math.min(...runnerMs).toFixed(1)}, max ${Math.max(...runnerMs).toFixed(1)})`);
    const diff = r - b;
    console.log(`  ratio runner/raw      ${(r / b).toFixed(3)}   (${diff >= 0 ? '+' : ''}${diff.toFixed(1)} ms)`);
  } finally {
    await model.close();
    await env.cleanup();
  }
}

/** The baseline: the protocol exchange and nothing else. */
async function rawTurn(runner: CodexRunner, env: CodexTestEnv): Promise<void> {
  const { bin, args, env: processEnv } = runner.appServerCommand();
  const child = spawn(bin, args, { env: processEnv, cwd: env.workDir, stdio: ['pipe', 'pipe', 'ignore'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
  await new Promise<void>((resolve, reject) => {
    let threadId = '';
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as { id?: number; method?: string; result?: { thread?: { id: string } }; error?: unknown; params?: { turn?: { status: string } } };
      if (m.error) reject(new Error(JSON.stringify(m.error)));
      else if (m.id === 1 && !m.method) {
        send({ method: 'initialized' });
        send({ id: 2, method: 'thread/start', params: { cwd: env.workDir, approvalPolicy: 'never', sandbox: 'danger-full-access' } });
      } else if (m.id === 2 && !m.method) {
        threadId = m.result!.thread!.id;
        send({ id: 3, method: 'turn/start', params: { threadId, input: [{ type: 'text', text: 'ping', text_elements: [] }] } });
      } else if (m.method === 'turn/completed') {
        if (m.params?.turn?.status !== 'completed') reject(new Error(`raw turn ended ${m.params?.turn?.status}`));
        else resolve();
      }
    });
    child.once('exit', () => reject(new Error('the app-server exited before the turn completed')));
    send({ id: 1, method: 'initialize', params: { clientInfo: { name: 'bench', title: null, version: '0' }, capabilities: null } });
  });
  child.stdin.end();
  await exited;
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
