// `codex-bridge doctor` against nothing (helpful FAIL lines, exit 1) and against the real test
// servers plus stand-in Feishu and Hermes endpoints (all ok, exit 0).
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { loadConfig } from '../../src/config';
import { checkFeishu, runDoctor, type DoctorCheck } from '../../src/doctor';
import { freePort } from '../../src/infra/free-port';
import { makeTestEnv } from '../support/test-env';
import { cli, onlyJson } from './support/run-cli';

const servers: http.Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A Feishu Open API stand-in that knows one app. */
function fakeFeishu(appId: string, appSecret: string): Promise<string> {
  return serve((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const ok = req.url === '/open-apis/auth/v3/tenant_access_token/internal' && req.method === 'POST';
      const creds = ok ? (JSON.parse(body) as { app_id?: string; app_secret?: string }) : {};
      const valid = creds.app_id === appId && creds.app_secret === appSecret;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          valid
            ? { code: 0, msg: 'ok', tenant_access_token: 't-1', expire: 7200 }
            : { code: 10014, msg: 'app secret invalid' },
        ),
      );
    });
  });
}

const byName = (checks: DoctorCheck[]) => Object.fromEntries(checks.map((c) => [c.name, c]));

test('with nothing running: one FAIL line per broken dependency, each saying how to fix it; exit 1', async () => {
  const [temporalPort, storePort, hermesPort] = await Promise.all([freePort(), freePort(), freePort()]);
  // An inbox whose "directory" is a file cannot be created, even by root.
  const notADirectory = path.join(makeTestEnv().scratch, 'plain-file');
  fs.writeFileSync(notADirectory, '');
  const env = {
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    MONGODB_URI: `mongodb://127.0.0.1:${storePort}`,
    CODEX_BIN: '/nonexistent/codex',
    HERMES_WEBHOOK_URL: `http://127.0.0.1:${hermesPort}/webhooks/codex`,
    HERMES_WEBHOOK_SECRET: 'hermes-secret-1',
    CODEX_BRIDGE_LOCAL_INBOX: path.join(notADirectory, 'inbox.jsonl'),
  };
  const run = await cli(['doctor'], { env });
  expect(run.code).toBe(1);
  const lines = run.stdout.trimEnd().split('\n');
  for (const line of lines) expect(line).toMatch(/^(ok {2}|FAIL) [a-z ]+: \S/);
  expect(lines).toEqual(
    expect.arrayContaining([
      expect.stringMatching(
        new RegExp(
          `^FAIL temporal: cannot reach Temporal at 127\\.0\\.0\\.1:${temporalPort} .*: start it with \`codex-bridge dev\`, or set TEMPORAL_ADDRESS`,
        ),
      ),
      expect.stringMatching(
        new RegExp(`^FAIL store: cannot reach the store at mongodb://127\\.0\\.0\\.1:${storePort} .*set MONGODB_URI`),
      ),
      expect.stringMatching(
        /^FAIL codex: \/nonexistent\/codex --version failed \(no such file\): set CODEX_BIN to a working codex binary/,
      ),
      expect.stringMatching(
        /^FAIL hermes: http:\/\/127\.0\.0\.1:\d+\/webhooks\/codex does not answer .*fix HERMES_WEBHOOK_URL$/,
      ),
      expect.stringMatching(
        /^FAIL local inbox: .*plain-file\/inbox\.jsonl is not writable \(.*plain-file is not a directory\): .*set CODEX_BRIDGE_LOCAL_INBOX/,
      ),
      expect.stringMatching(/^ok {3}feishu: not configured/),
      expect.stringMatching(/^ok {3}api: 127\.0\.0\.1:8787, loopback only/),
    ]),
  );
  // No search-attribute line when Temporal itself is unreachable: one cause, one line.
  expect(run.stdout).not.toContain('search attributes');
  expect(run.stderr).toBe('');
});

test('--json gives {checks:[{name, ok, message}]} and nothing else on stdout', async () => {
  const run = await cli(['doctor', '--json'], {
    env: { TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, MONGODB_URI: `mongodb://127.0.0.1:${await freePort()}` },
  });
  expect(run.code).toBe(1);
  const doc = onlyJson(run) as { checks: DoctorCheck[] };
  for (const c of doc.checks) expect(Object.keys(c).sort()).toEqual(['message', 'name', 'ok']);
  expect(byName(doc.checks).temporal!.ok).toBe(false);
  expect(byName(doc.checks).store!.ok).toBe(false);
});

test('against the test servers and working notifier endpoints every check passes; exit 0', async () => {
  const feishu = await fakeFeishu('cli_test', 'feishu-secret-1');
  const hermes = await serve((_req, res) => res.writeHead(405).end()); // a webhook route answers GET with 405
  const { env, scratch } = makeTestEnv({
    FEISHU_APP_ID: 'cli_test',
    FEISHU_APP_SECRET: 'feishu-secret-1',
    FEISHU_BASE_URL: feishu,
    HERMES_WEBHOOK_URL: `${hermes}/webhooks/codex`,
    HERMES_WEBHOOK_SECRET: 'hermes-secret-1',
    HERMES_WEBHOOK_ROUTES: JSON.stringify({ slack: `${hermes}/webhooks/slack` }),
    CODEX_BRIDGE_WEBHOOK_SECRET: 'webhook-secret-1',
    CODEX_BRIDGE_API_TOKEN: 'doctor-token-1',
  });
  const run = await cli(['doctor'], { env });
  expect(run.stdout).not.toContain('FAIL');
  expect(run.code).toBe(0);
  const lines = run.stdout.trimEnd().split('\n');
  expect(lines).toEqual(
    expect.arrayContaining([
      `ok   temporal: ${env.TEMPORAL_ADDRESS} over plain text, namespace default, task queue ${env.TEMPORAL_TASK_QUEUE}`,
      'ok   search attributes: CodexTaskStatus, NotificationStatus, NotifyTarget are registered',
      `ok   store: ${env.MONGODB_URI}, database ${env.MONGODB_DB}`,
      expect.stringMatching(/^ok {3}codex: codex-cli \d+\.\d+\.\d+ \(/),
      `ok   local inbox: ${path.join(scratch, 'inbox.jsonl')} will be created on the first local notification`,
      `ok   feishu: app cli_test got a tenant access token from ${feishu}`,
      `ok   hermes: ${hermes}/webhooks/codex answers (HTTP 405), secret set`,
      `ok   hermes slack: ${hermes}/webhooks/slack answers (HTTP 405), secret set`,
      'ok   webhook: webhook: targets are signed with CODEX_BRIDGE_WEBHOOK_SECRET',
      'ok   api: 127.0.0.1:8787, bearer token set',
    ]),
  );
  expect(run.stdout).not.toContain('feishu-secret-1');
});

test('a namespace that does not exist is a FAIL that says how to create it', async () => {
  const { config } = makeTestEnv({ TEMPORAL_NAMESPACE: 'no-such-namespace' });
  const checks = byName(await runDoctor(config));
  expect(checks.temporal).toEqual({
    name: 'temporal',
    ok: false,
    message: expect.stringMatching(
      /^namespace "no-such-namespace" does not exist on .*`temporal operator namespace create --namespace no-such-namespace`/,
    ),
  });
});

test('wrong Feishu credentials are a FAIL naming the variables to check', async () => {
  const feishu = await fakeFeishu('cli_test', 'right-secret');
  const config = loadConfig({ FEISHU_APP_ID: 'cli_test', FEISHU_APP_SECRET: 'wrong-secret', FEISHU_BASE_URL: feishu });
  expect(await checkFeishu(config, 3000)).toEqual({
    name: 'feishu',
    ok: false,
    message: `${feishu} refused app cli_test (code 10014: app secret invalid): check FEISHU_APP_ID and FEISHU_APP_SECRET`,
  });
});

test('an existing writable inbox file is ok', async () => {
  const { scratch, config } = makeTestEnv();
  fs.writeFileSync(config.notifiers.localInbox, '');
  const checks = byName(await runDoctor(config, { timeoutMs: 500 }));
  expect(checks['local inbox']).toEqual({
    name: 'local inbox',
    ok: true,
    message: `${path.join(scratch, 'inbox.jsonl')} is writable`,
  });
});

test('a bad configuration is exit 2 before any check runs', async () => {
  const run = await cli(['doctor'], { env: { MONGODB_URI: 'postgres://x' } });
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/^codex-bridge: MONGODB_URI is invalid/);
  expect(run.stdout).toBe('');
});
