// The whole bridge as a user runs it, for tests outside Jest (the Hermes plugin's pytest suite):
// a Temporal dev server and FerretDB, `codex-bridge worker` and `codex-bridge serve` as child
// processes, the real `codex` binary driven by a scripted model, and the real Hermes gateway
// (test/support/real-hermes-gateway.ts) as the `hermes:` channel, delivering to a fake Telegram.
// Everything listens on free 127.0.0.1 ports.
//
//   node dist/test/support/bridge-stack.js
//
// prints one JSON line once everything is ready:
//   {"api_url", "token", "work_dir", "control_url", "gateway_route_url"}
// and runs until its stdin closes or it gets SIGTERM/SIGINT, then stops everything it started.
// `GET {control_url}/telegram/messages` lists what the fake Telegram received (text unescaped).
//
// The scripted model, by tags in the task's prompt:
//   [ask]    first asks to run `echo approved > approved.txt` (an approval under `untrusted`),
//            then answers "Wrote approved.txt."
//   [hold]   never answers (the turn runs until it is cancelled)
//   [reply]  a follow-up turn: answers "Follow-up done."
//   anything else: answers "All done."
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../src/infra/free-port';
import { ManagedProcess, signalGroup } from '../../src/infra/managed-process';
import { startFerretDb } from '../../src/infra/ferretdb-server';
import { startTemporalDevServer } from '../../src/infra/temporal-dev-server';
import { PROJECT_ROOT } from '../../src/infra/tool-paths';
import { makeCodexEnv } from './codex-env';
import { telegramPlainText } from './fake-telegram';
import { startRealHermesGateway } from './real-hermes-gateway';
import {
  ScriptedModel,
  requestInputText,
  requestToolOutputs,
  type RecordedRequest,
  type ScriptStep,
} from './scripted-model';

export interface BridgeStackInfo {
  api_url: string;
  token: string;
  /** A directory the bridge accepts as a task's cwd. */
  work_dir: string;
  control_url: string;
  gateway_route_url: string;
}

/** What the scripted model does for one request, from the tags in what it was shown. */
export function taggedStep(request: RecordedRequest): ScriptStep {
  const text = requestInputText(request);
  if (text.includes('[reply]')) return final('Follow-up done.');
  if (text.includes('[hold]')) return { stall: true };
  if (text.includes('[ask]')) {
    const asked = Object.keys(requestToolOutputs(request)).length > 0;
    return asked
      ? final('Wrote approved.txt.')
      : { items: [{ type: 'exec_command', cmd: 'echo approved > approved.txt', callId: 'call_ask' }] };
  }
  return final('All done.');
}

function final(text: string): ScriptStep {
  return { items: [{ type: 'message', text, phase: 'final_answer' }] };
}

export async function startBridgeStack(
  log: (line: string) => void,
): Promise<{ info: BridgeStackInfo; stop(): Promise<void> }> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-bridge-stack-'));
  // The Codex env and the gateway's HERMES_HOME go under it too.
  process.env.CODEX_BRIDGE_TEST_SCRATCH = scratch;
  const stops: (() => Promise<unknown>)[] = [];
  const groups: number[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse())
      await s().catch((err: unknown) => log(`stop: ${(err as Error).message}`));
    if (!process.env.CODEX_BRIDGE_KEEP_TEST_FILES) fs.rmSync(scratch, { recursive: true, force: true });
  };
  // If this process dies without an orderly stop, take the servers with it.
  process.once('exit', () => groups.forEach((pid) => signalGroup(pid, 'SIGKILL')));

  try {
    const [temporal, store] = await Promise.all([
      startTemporalDevServer({ uiPort: null, logFile: path.join(scratch, 'temporal.log') }),
      startFerretDb({ dataDir: path.join(scratch, 'store'), logFile: path.join(scratch, 'ferretdb.log') }),
    ]);
    stops.push(
      () => temporal.stop(),
      () => store.stop(),
    );
    groups.push(temporal.process.pid!, store.process.pid!);

    const model = await ScriptedModel.start(taggedStep);
    stops.push(() => model.close());
    const codex = await makeCodexEnv({ modelUrl: model.url });
    stops.push(() => codex.cleanup());
    const gateway = await startRealHermesGateway();
    stops.push(() => gateway.stop());
    if (gateway.pid) groups.push(gateway.pid);

    const token = randomBytes(16).toString('hex');
    const apiPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: temporal.address,
      MONGODB_URI: store.uri,
      CODEX_HOME: codex.codexHome,
      CODEX_BRIDGE_CODEX_CONFIG: JSON.stringify(codex.configOverrides),
      CODEX_BRIDGE_ALLOWED_ROOTS: codex.workDir,
      CODEX_BRIDGE_TURN_TIMEOUT: '120s',
      CODEX_BRIDGE_LOCAL_INBOX: path.join(scratch, 'inbox.jsonl'),
      CODEX_BRIDGE_LOG_LEVEL: 'warn',
      CODEX_BRIDGE_API_ADDR: `127.0.0.1:${apiPort}`,
      CODEX_BRIDGE_API_TOKEN: token,
      HERMES_WEBHOOK_URL: gateway.routeUrl,
      HERMES_WEBHOOK_SECRET: gateway.secret,
    };
    const cli = path.join(PROJECT_ROOT, 'bin', 'codex-bridge.js');
    for (const role of ['worker', 'serve'] as const) {
      const proc = new ManagedProcess({
        name: role,
        command: process.execPath,
        args: [cli, role],
        env,
        cwd: PROJECT_ROOT,
        logFile: path.join(scratch, `${role}.log`),
      });
      stops.push(() => proc.stop(15_000));
      groups.push(proc.pid!);
    }
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitForHealthy(`${apiUrl}/healthz`, 60_000, () => fs.readFileSync(path.join(scratch, 'serve.log'), 'utf8'));

    const control = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/telegram/messages') {
        const messages = gateway.telegram.messages.map((m) => ({ ...m, text: telegramPlainText(m.text) }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(messages));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', () => resolve()));
    stops.push(() => new Promise<void>((resolve) => control.close(() => resolve())));

    return {
      info: {
        api_url: apiUrl,
        token,
        work_dir: codex.workDir,
        control_url: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
        gateway_route_url: gateway.routeUrl,
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForHealthy(url: string, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`the bridge API did not answer ${url} within ${timeoutMs} ms:\n${log().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

if (require.main === module) {
  const log = (line: string) => process.stderr.write(`bridge-stack: ${line}\n`);
  void (async () => {
    let stack: Awaited<ReturnType<typeof startBridgeStack>>;
    try {
      stack = await startBridgeStack(log);
    } catch (err) {
      log(`could not start: ${(err as Error).message}`);
      process.exitCode = 1;
      return;
    }
    let stopping: Promise<void> | undefined;
    const shutdown = () => {
      stopping ??= stack.stop().then(() => process.exit(0));
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
    process.stdin.on('end', shutdown);
    process.stdin.on('close', shutdown);
    process.stdin.resume();
    process.stdout.write(JSON.stringify(stack.info) + '\n');
  })();
}
