// The baseline of the overhead benchmark: one one-message turn driven by a minimal hand-written
// app-server loop (spawn, initialize, thread/start, turn/start, wait for turn/completed, EOF, wait
// for exit), with exactly the binary, flags and environment CodexRunner uses. Shared by the
// overhead section of `npm run bench` and the standalone bench/codex-overhead.ts.
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';
import type { CodexRunner } from '../../activities/codex/codex-runner';

export async function rawTurn(runner: CodexRunner, cwd: string, timeoutMs = 60_000): Promise<void> {
  const { bin, args, env } = runner.appServerCommand();
  const child = spawn(bin, args, { env, cwd, stdio: ['pipe', 'pipe', 'ignore'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the raw turn did not complete within ${timeoutMs} ms`)), timeoutMs);
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        const m = JSON.parse(line) as {
          id?: number;
          method?: string;
          result?: { thread?: { id: string } };
          error?: unknown;
          params?: { turn?: { status: string } };
        };
        if (m.error) reject(new Error(JSON.stringify(m.error)));
        else if (m.id === 1 && !m.method) {
          send({ method: 'initialized' });
          send({
            id: 2,
            method: 'thread/start',
            params: { cwd, approvalPolicy: 'never', sandbox: 'danger-full-access' },
          });
        } else if (m.id === 2 && !m.method) {
          send({
            id: 3,
            method: 'turn/start',
            params: { threadId: m.result!.thread!.id, input: [{ type: 'text', text: 'ping', text_elements: [] }] },
          });
        } else if (m.method === 'turn/completed') {
          if (m.params?.turn?.status !== 'completed') reject(new Error(`raw turn ended ${m.params?.turn?.status}`));
          else resolve();
        }
      });
      child.once('exit', () => reject(new Error('the app-server exited before the turn completed')));
      send({
        id: 1,
        method: 'initialize',
        params: { clientInfo: { name: 'bench', title: null, version: '0' }, capabilities: null },
      });
    });
  } finally {
    clearTimeout(timer);
    child.stdin.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  }
}
