// `codex-bridge init` and the worker's set-up-on-start against a real dev server started without
// the bridge's search attributes, as a production cluster starts: added once, then "already present".
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from '../../src/infra/free-port';
import { startTemporalDevServer, type RunningTemporal } from '../../src/infra/temporal-dev-server';
import { SEARCH_ATTRIBUTES } from '../../src/infra/tool-paths';
import { makeTestEnv } from '../support/test-env';
import { cli, onlyJson } from '../interfaces/support/run-cli';

jest.setTimeout(120_000);

let temporal: RunningTemporal;
let connection: Connection;
const scratch = makeTestEnv().scratch;

beforeAll(async () => {
  temporal = await startTemporalDevServer({
    uiPort: null,
    searchAttributes: false,
    logFile: path.join(scratch, 'temporal.log'),
  });
  connection = await Connection.connect({ address: temporal.address });
});
afterAll(async () => {
  await connection?.close();
  await temporal?.stop();
});

const registered = async (namespace: string) =>
  Object.keys((await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {}).filter(
    (name) => (SEARCH_ATTRIBUTES as readonly string[]).includes(name),
  );

test('doctor reports the missing attributes, init adds them and says so, a second init finds them present', async () => {
  const env = { ...makeTestEnv().env, TEMPORAL_ADDRESS: temporal.address };
  expect(await registered('default')).toEqual([]);

  const before = await cli(['doctor'], { env });
  expect(before.stdout).toContain(
    'FAIL search attributes: CodexTaskStatus, NotificationStatus, NotifyTarget are not registered in namespace default: run `codex-bridge init`, or ',
  );

  const first = await cli(['init'], { env });
  expect(first.stderr).toBe('');
  expect(first.stdout).toBe(
    'default: namespace exists; added search attributes CodexTaskStatus, NotificationStatus, NotifyTarget\n',
  );
  expect(first.code).toBe(0);
  expect((await registered('default')).sort()).toEqual([...SEARCH_ATTRIBUTES].sort());

  const second = await cli(['init', '--json'], { env });
  expect(onlyJson(second)).toEqual({
    namespace: 'default',
    registered: false,
    added: [],
    present: [...SEARCH_ATTRIBUTES],
  });

  const after = await cli(['doctor'], { env });
  expect(after.stdout).toContain(
    'ok   search attributes: CodexTaskStatus, NotificationStatus, NotifyTarget are registered',
  );
});

test('init registers a namespace that does not exist, then its search attributes', async () => {
  const env = { ...makeTestEnv().env, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: 'team-a' };
  const run = await cli(['init'], { env });
  expect(run.stdout).toBe(
    'team-a: registered the namespace; added search attributes CodexTaskStatus, NotificationStatus, NotifyTarget\n',
  );
  expect(run.code).toBe(0);
  expect((await registered('team-a')).sort()).toEqual([...SEARCH_ATTRIBUTES].sort());
});

test('init against an unreachable server is one sentence on stderr and exit code, nothing printed as done', async () => {
  const run = await cli(['init'], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
  expect(run.code).not.toBe(0);
  expect(run.stdout).toBe('');
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1 .*set TEMPORAL_ADDRESS/);
});

test('the worker sets its namespace up on start when CODEX_BRIDGE_REGISTER_SEARCH_ATTRIBUTES is on', async () => {
  const env = {
    ...makeTestEnv().env,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: 'team-b',
    CODEX_BRIDGE_REGISTER_SEARCH_ATTRIBUTES: 'true',
  };
  const stop = new AbortController();
  const running = cli(['worker'], { env, deps: { signal: stop.signal } });
  try {
    const deadline = Date.now() + 60_000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      names = await registered('team-b').catch(() => []);
      if (names.length === SEARCH_ATTRIBUTES.length) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(names.sort()).toEqual([...SEARCH_ATTRIBUTES].sort());
  } finally {
    stop.abort();
  }
  const run = await running;
  expect(run.code).toBe(0);
  const setUp = run.stderr.split('\n').filter((line) => line.includes('"namespace set up"'));
  expect(setUp).toHaveLength(1);
  expect(JSON.parse(setUp[0]!)).toMatchObject({
    namespace: 'team-b',
    registered: true,
    added: [...SEARCH_ATTRIBUTES],
    present: [],
  });
});

test('init --wait keeps trying until a server starting beside it answers; a bad --wait is a usage error', async () => {
  const port = await freePort();
  const env = { ...makeTestEnv().env, TEMPORAL_ADDRESS: `127.0.0.1:${port}` };
  const waiting = cli(['init', '--wait', '90s'], { env });
  await new Promise((r) => setTimeout(r, 1500));
  const late = await startTemporalDevServer({
    port,
    uiPort: null,
    searchAttributes: false,
    logFile: path.join(scratch, 'late.log'),
  });
  try {
    const run = await waiting;
    expect(run.stdout).toBe(
      'default: namespace exists; added search attributes CodexTaskStatus, NotificationStatus, NotifyTarget\n',
    );
    expect(run.code).toBe(0);
  } finally {
    await late.stop();
  }
  const bad = await cli(['init', '--wait', 'soon'], { env });
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim()).toBe('codex-bridge: --wait must be a duration such as 90s or 2m, not "soon".');
});
