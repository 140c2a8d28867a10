// The JSON-RPC client against a tiny fake app-server (a node script): replies, notifications,
// server requests, and the ways a child can break (non-JSON line, exit, refusing to stop).
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  AppServerClient,
  AppServerExitedError,
  AppServerProtocolError,
  AppServerRequestError,
  AppServerSpawnError,
  stderrSummary,
} from '../../activities/codex/app-server-client';
import type { ServerNotification } from '../../activities/codex/app-server-methods';

const FAKE = path.join(__dirname, 'fixtures', 'fake-app-server.js');
const clients: AppServerClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close(200)));
});

function start(...args: string[]): AppServerClient {
  const client = new AppServerClient({ bin: process.execPath, args: [FAKE, ...args] });
  clients.push(client);
  return client;
}

// The fake speaks methods the typed API does not list.
function call(client: AppServerClient, method: string, params: unknown = {}): Promise<unknown> {
  return (client.request as unknown as (m: string, p: unknown) => Promise<unknown>)(method, params);
}

function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('requests get their own replies, in any order of completion', async () => {
  const client = start();
  const [a, b] = await Promise.all([call(client, 'echo', { n: 1 }), call(client, 'echo', { n: 2 })]);
  expect(a).toEqual({ params: { n: 1 } });
  expect(b).toEqual({ params: { n: 2 } });
});

test('notifications reach the listeners, typed by method', async () => {
  const client = start();
  const seen: ServerNotification[] = [];
  client.onNotification((n) => seen.push(n));
  await call(client, 'notify');
  expect(seen).toEqual([{ method: 'turn/diff/updated', params: { threadId: 't', turnId: 'u', diff: 'd' } }]);
});

test('a notification listener that throws ends the session with its error instead of crashing', async () => {
  const client = start();
  client.onNotification(() => {
    throw new Error('listener bug');
  });
  await expect(call(client, 'notify')).rejects.toThrow('listener bug');
  await expect(client.ended).resolves.toMatchObject({ message: 'listener bug' });
});

test('server requests carry id and method and are answered {id, result}', async () => {
  const client = start();
  const handled: string[] = [];
  client.handleServerRequests(async (request) => {
    handled.push(`${request.id}:${request.method}`);
    return { decision: 'decline' };
  });
  const reply = await call(client, 'ask', { method: 'item/commandExecution/requestApproval', params: { itemId: 'i' } });
  expect(handled).toEqual(['0:item/commandExecution/requestApproval']);
  expect(reply).toEqual({ answer: { id: 0, result: { decision: 'decline' } } });
});

test('a server request without a handler, or whose handler throws, is answered with a JSON-RPC error', async () => {
  const client = start();
  expect(await call(client, 'ask', { method: 'item/tool/call', params: {} })).toEqual({
    answer: { id: 0, error: { code: -32601, message: 'codex-bridge does not handle item/tool/call' } },
  });
  client.handleServerRequests(async () => {
    throw new Error('no answer today');
  });
  expect(await call(client, 'ask', { method: 'item/tool/call', params: {} })).toEqual({
    answer: { id: 1, error: { code: -32603, message: 'no answer today' } },
  });
});

test('an error reply rejects with AppServerRequestError naming the method', async () => {
  const client = start();
  const failing = call(client, 'fail');
  await expect(failing).rejects.toBeInstanceOf(AppServerRequestError);
  await expect(failing).rejects.toMatchObject({
    method: 'fail',
    code: -32600,
    message: 'codex app-server rejected fail: failed to load configuration: nope',
  });
});

test('a non-JSON line rejects pending requests with a clear protocol error and stops the process', async () => {
  const client = start();
  const pending = call(client, 'hang');
  await call(client, 'garbage').then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(AppServerProtocolError);
      expect((err as Error).message).toBe(
        'codex app-server wrote a line that is not JSON on stdout: "this is not json"',
      );
    },
  );
  await expect(pending).rejects.toBeInstanceOf(AppServerProtocolError);
  await expect(client.ended).resolves.toBeInstanceOf(AppServerProtocolError);
  await client.exited;
  expect(alive(client.pid!)).toBe(false);
  await expect(call(client, 'echo')).rejects.toBeInstanceOf(AppServerProtocolError);
});

test('the process exiting rejects every pending request with its exit code and stderr', async () => {
  const client = start();
  const pending = [call(client, 'hang'), call(client, 'hang')];
  const dying = call(client, 'die');
  for (const request of [...pending, dying]) {
    await expect(request).rejects.toBeInstanceOf(AppServerExitedError);
  }
  await expect(dying).rejects.toMatchObject({
    exitCode: 3,
    message: 'codex app-server exited with code 3: Error: the fake app-server was told to die',
  });
  expect(client.stderrTail).toContain('Stack backtrace');
  await expect(call(client, 'echo')).rejects.toBeInstanceOf(AppServerExitedError);
});

test('a binary that cannot be started ends the session with AppServerSpawnError', async () => {
  const client = new AppServerClient({ bin: '/nonexistent/codex', args: [] });
  clients.push(client);
  await expect(call(client, 'echo')).rejects.toBeInstanceOf(AppServerSpawnError);
  await expect(client.ended).resolves.toMatchObject({ errno: 'ENOENT' });
});

test('close() ends a child that ignores EOF and SIGTERM, with SIGKILL to its group', async () => {
  const client = start('stubborn');
  await call(client, 'echo');
  const pid = client.pid!;
  const started = Date.now();
  await client.close(300);
  expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  expect(alive(pid)).toBe(false);
  await expect(client.ended).resolves.toMatchObject({ signal: 'SIGKILL' });
});

test('close() of a well-behaved child needs only EOF', async () => {
  const client = start();
  await call(client, 'echo');
  await client.close(5_000);
  await expect(client.ended).resolves.toMatchObject({ exitCode: 0, signal: null });
});

test('stderr keeps only its tail', async () => {
  const client = new AppServerClient({
    bin: process.execPath,
    args: ['-e', 'process.stderr.write("x".repeat(50000) + "THE END")'],
    stderrTailBytes: 1024,
  });
  clients.push(client);
  await client.exited;
  await client.ended;
  expect(client.stderrTail.length).toBe(1024);
  expect(client.stderrTail.endsWith('THE END')).toBe(true);
});

test('stderrSummary prefers Codex’s Error block, else the last line', () => {
  expect(
    stderrSummary('WARNING: x\nError: unknown variant `bogus`\nin `sandbox_mode`\n\nStack backtrace:\n 0: <unknown>'),
  ).toBe('Error: unknown variant `bogus` in `sandbox_mode`');
  expect(stderrSummary('first\nsecond\n\n')).toBe('second');
  expect(stderrSummary('')).toBe('');
});
