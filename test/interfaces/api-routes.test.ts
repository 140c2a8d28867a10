// The API's routes against a recording fake service: what is passed to the service, what
// comes back, how service errors map to statuses, /healthz, /openapi.json and the bind rules.
import type { FastifyInstance } from 'fastify';
import { tokenMatches } from '../../src/api/auth';
import { buildApiServer, startApiServer, type ApiServerOptions } from '../../src/api/server';
import { ConfigError, loadConfig } from '../../src/config';
import { OperationFailedError, UnavailableError } from '../../src/errors';
import { createLogger } from '../../src/logging';
import { createBridgeMetrics } from '../../src/metrics';
import { createHash } from 'node:crypto';
import { FakeTaskService, makeTaskDocument } from './support/fake-task-service';
import { request } from './support/http-client';

const TOKEN = 'route-test-token-123';
const auth = { authorization: `Bearer ${TOKEN}` };

let fake: FakeTaskService;
let app: FastifyInstance;
let logLines: string[];

async function build(options: Partial<ApiServerOptions> = {}): Promise<FastifyInstance> {
  const instance = buildApiServer({
    service: fake,
    token: TOKEN,
    logger: createLogger({ level: 'debug', write: (l) => void logLines.push(l) }),
    ...options,
  });
  await instance.ready();
  return instance;
}

beforeEach(async () => {
  fake = new FakeTaskService();
  fake.tasks.set(
    'task-a',
    makeTaskDocument({
      task_id: 'task-a',
      status: 'waiting_for_input',
      pending_requests: [
        { request_id: 'req-1', kind: 'command_approval', summary: 'npm test', created_at: new Date().toISOString() },
        {
          request_id: 'req-2',
          kind: 'user_input',
          summary: 'which package manager?',
          created_at: new Date().toISOString(),
        },
      ],
    }),
  );
  logLines = [];
  app = await build();
});

afterEach(() => app.close());

test('POST /v1/tasks starts a task with exactly the given fields and answers 201 with the document', async () => {
  const res = await request(app, {
    method: 'POST',
    url: '/v1/tasks',
    headers: auth,
    payload: {
      prompt: 'fix it',
      cwd: '/srv/repo',
      notify_target: 'feishu:oc_abc',
      model: 'gpt-5-codex',
      sandbox: 'read-only',
      approval_policy: 'on-request',
      task_id: 'fix-1',
    },
  });
  expect(res.statusCode).toBe(201);
  expect(res.json()).toMatchObject({
    task_id: 'fix-1',
    prompt: 'fix it',
    notify_target: 'feishu:oc_abc',
    status: 'queued',
  });
  expect(fake.callsOf('start')).toEqual([
    [
      {
        prompt: 'fix it',
        cwd: '/srv/repo',
        notify_target: 'feishu:oc_abc',
        model: 'gpt-5-codex',
        sandbox: 'read-only',
        approval_policy: 'on-request',
        task_id: 'fix-1',
      },
    ],
  ]);
});

test('a duplicate task id is 409 conflict', async () => {
  const res = await request(app, {
    method: 'POST',
    url: '/v1/tasks',
    headers: auth,
    payload: { prompt: 'again', task_id: 'task-a' },
  });
  expect(res.statusCode).toBe(409);
  expect(res.json()).toEqual({ error: { code: 'conflict', message: 'A task with id task-a already exists.' } });
});

test('GET /v1/tasks passes the filters typed (limit as a number) and wraps the list', async () => {
  const res = await request(app, {
    method: 'GET',
    url: '/v1/tasks?status=waiting_for_input&notify_target=local&limit=7',
    headers: auth,
  });
  expect(res.statusCode).toBe(200);
  expect(fake.callsOf('list')).toEqual([[{ status: 'waiting_for_input', notify_target: 'local', limit: 7 }]]);
  expect(res.json()).toEqual({ tasks: [], next_cursor: null });
  const all = await request(app, { method: 'GET', url: '/v1/tasks', headers: auth });
  expect(all.json().tasks.map((t: { task_id: string }) => t.task_id)).toEqual(['task-a']);
});

test('GET /v1/tasks pages on: next_cursor comes back as before, decoded; anything else is a 400 sentence', async () => {
  fake.tasks.set('task-b', makeTaskDocument({ task_id: 'task-b', created_at: '2000-01-01T00:00:00.000Z' }));
  const first = await request(app, { method: 'GET', url: '/v1/tasks?limit=1', headers: auth });
  const { tasks, next_cursor } = first.json();
  expect(tasks.map((t: { task_id: string }) => t.task_id)).toEqual(['task-a']);
  expect(typeof next_cursor).toBe('string');
  await request(app, { method: 'GET', url: `/v1/tasks?limit=1&before=${next_cursor}`, headers: auth });
  expect(fake.callsOf('list')[1]).toEqual([
    { limit: 1, before: { created_at: tasks[0].created_at, task_id: 'task-a' } },
  ]);

  const bad = await request(app, { method: 'GET', url: '/v1/tasks?before=eyJ4IjoxfQ', headers: auth });
  expect(bad.statusCode).toBe(400);
  expect(bad.json()).toEqual({
    error: { code: 'validation_error', message: 'before must be the next_cursor of an earlier list.' },
  });
  expect(fake.callsOf('list')).toHaveLength(2);
});

test('GET /v1/tasks/:task_id answers the document, and 404 in the error shape for an unknown task', async () => {
  const found = await request(app, { method: 'GET', url: '/v1/tasks/task-a', headers: auth });
  expect(found.statusCode).toBe(200);
  expect(found.json().task_id).toBe('task-a');
  const missing = await request(app, { method: 'GET', url: '/v1/tasks/nope', headers: auth });
  expect(missing.statusCode).toBe(404);
  expect(missing.json()).toEqual({ error: { code: 'not_found', message: 'There is no task nope.' } });
});

test('POST …/cancel answers 202 {task_id, status: "cancelling"}', async () => {
  const res = await request(app, { method: 'POST', url: '/v1/tasks/task-a/cancel', headers: auth });
  expect(res.statusCode).toBe(202);
  expect(res.json()).toEqual({ task_id: 'task-a', status: 'cancelling' });
  expect(fake.callsOf('cancel')).toEqual([['task-a']]);
  // Clients that always send a JSON content type with an empty body are fine too.
  const withHeader = await request(app, {
    method: 'POST',
    url: '/v1/tasks/task-a/cancel',
    headers: { ...auth, 'content-type': 'application/json' },
    payload: '',
  });
  expect(withHeader.statusCode).toBe(202);
});

test('approvals answer 200 with the document, then 409 once the request is no longer pending', async () => {
  const first = await request(app, {
    method: 'POST',
    url: '/v1/tasks/task-a/approvals/req-1',
    headers: auth,
    payload: { decision: 'decline' },
  });
  expect(first.statusCode).toBe(200);
  expect(first.json().pending_requests.map((r: { request_id: string }) => r.request_id)).toEqual(['req-2']);
  expect(fake.callsOf('approve')).toEqual([['task-a', 'req-1', 'decline']]);
  const again = await request(app, {
    method: 'POST',
    url: '/v1/tasks/task-a/approvals/req-1',
    headers: auth,
    payload: { decision: 'decline' },
  });
  expect(again.statusCode).toBe(409);
  expect(again.json().error.code).toBe('conflict');
});

test('answers pass the answer map through and answer 200', async () => {
  const res = await request(app, {
    method: 'POST',
    url: '/v1/tasks/task-a/answers/req-2',
    headers: auth,
    payload: { answers: { pm: ['pnpm'], why: [] } },
  });
  expect(res.statusCode).toBe(200);
  expect(fake.callsOf('answer')).toEqual([['task-a', 'req-2', { pm: ['pnpm'], why: [] }]]);
});

test('replies answer 202 with the document', async () => {
  const res = await request(app, {
    method: 'POST',
    url: '/v1/tasks/task-a/replies',
    headers: auth,
    payload: { prompt: 'and the docs' },
  });
  expect(res.statusCode).toBe(202);
  expect(res.json().task_id).toBe('task-a');
  expect(fake.callsOf('reply')).toEqual([['task-a', 'and the docs']]);
});

test('POST /v1/notify-completed maps its flags and works without a body', async () => {
  const flagged = await request(app, {
    method: 'POST',
    url: '/v1/notify-completed',
    headers: auth,
    payload: { dry_run: true, retry_failed: true },
  });
  expect(flagged.statusCode).toBe(200);
  expect(flagged.json()).toMatchObject({ dry_run: true, scanned: 0, items: [] });
  const bare = await request(app, { method: 'POST', url: '/v1/notify-completed', headers: auth });
  expect(bare.statusCode).toBe(200);
  expect(fake.callsOf('notifyCompleted')).toEqual([
    [{ dryRun: true, retryFailed: true }],
    [{ dryRun: undefined, retryFailed: undefined }],
  ]);
});

test('an unreachable Temporal or store is 503 with the service sentence', async () => {
  fake.failNext.set(
    'status',
    new UnavailableError('Temporal at 127.0.0.1:7233 is unreachable: start it or set TEMPORAL_ADDRESS.'),
  );
  const res = await request(app, { method: 'GET', url: '/v1/tasks/task-a', headers: auth });
  expect(res.statusCode).toBe(503);
  expect(res.json()).toEqual({
    error: {
      code: 'unavailable',
      message: 'Temporal at 127.0.0.1:7233 is unreachable: start it or set TEMPORAL_ADDRESS.',
    },
  });
});

test('an unexpected failure is a 500 that reveals nothing, and is logged with its details', async () => {
  fake.failNext.set(
    'list',
    new TypeError("Cannot read properties of undefined (reading 'password') at /srv/secret/path.js:12"),
  );
  const res = await request(app, { method: 'GET', url: '/v1/tasks', headers: auth });
  expect(res.statusCode).toBe(500);
  expect(res.json()).toEqual({
    error: {
      code: 'internal_error',
      message: 'Internal error: the bridge failed unexpectedly; its log has the details.',
    },
  });
  expect(res.body).not.toMatch(/password|secret|TypeError/);
  const logged = logLines.map((l) => JSON.parse(l)).find((l) => l.level === 'error');
  expect(logged).toMatchObject({
    msg: 'internal error while answering a request',
    route: '/v1/tasks',
    error: { type: 'TypeError' },
  });
});

test('an OperationFailedError keeps its own sentence', async () => {
  fake.failNext.set(
    'cancel',
    new OperationFailedError('The cancel signal could not be delivered: the workflow is closing.'),
  );
  const res = await request(app, { method: 'POST', url: '/v1/tasks/task-a/cancel', headers: auth });
  expect(res.statusCode).toBe(500);
  expect(res.json()).toEqual({
    error: { code: 'operation_failed', message: 'The cancel signal could not be delivered: the workflow is closing.' },
  });
});

describe('/healthz', () => {
  test('answers {ok:true} without a token', async () => {
    const res = await request(app, { method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
  });

  test('is 503 with the readiness sentence when Temporal or the store is down', async () => {
    const down = await build({ health: async () => ({ ok: false, message: 'Temporal is unreachable.' }) });
    const res = await request(down, { method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ ok: false, error: { code: 'unavailable', message: 'Temporal is unreachable.' } });
    await down.close();
  });

  test('is 503 when the readiness check throws or hangs', async () => {
    const throwing = await build({ health: async () => Promise.reject(new Error('boom at mongodb://u:pw@db')) });
    const thrown = await request(throwing, { method: 'GET', url: '/healthz' });
    expect(thrown.statusCode).toBe(503);
    expect(thrown.body).not.toMatch(/pw|boom/);
    await throwing.close();
    const hanging = await build({ health: () => new Promise(() => undefined), healthTimeoutMs: 50 });
    const hung = await request(hanging, { method: 'GET', url: '/healthz' });
    expect(hung.statusCode).toBe(503);
    expect(hung.json().error.message).toBe('The readiness check did not answer within 50 ms.');
    await hanging.close();
  });

  test('ready when the check says so', async () => {
    const up = await build({ health: async () => ({ ok: true }) });
    expect((await request(up, { method: 'GET', url: '/healthz' })).json()).toEqual({ ok: true });
    await up.close();
  });
});

test('schedule routes: create passes the task fields and a cron list, then list, describe, pause, unpause and delete', async () => {
  const created = await request(app, {
    method: 'POST',
    url: '/v1/schedules',
    headers: auth,
    payload: {
      schedule_id: 'nightly',
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      prompt: 'update deps',
      cwd: '/srv/app',
      notify_target: 'local',
    },
  });
  expect(created.statusCode).toBe(201);
  expect(fake.callsOf('createSchedule')).toEqual([
    [
      {
        schedule_id: 'nightly',
        cron: ['30 2 * * *'],
        timezone: 'Europe/Berlin',
        prompt: 'update deps',
        cwd: '/srv/app',
        notify_target: 'local',
      },
    ],
  ]);
  expect(created.json()).toMatchObject({
    schedule_id: 'nightly',
    cron: ['30 2 * * *'],
    task: { prompt: 'update deps' },
  });
  expect((await request(app, { method: 'GET', url: '/v1/schedules', headers: auth })).json().schedules).toHaveLength(1);
  expect((await request(app, { method: 'GET', url: '/v1/schedules/nightly', headers: auth })).json().schedule_id).toBe(
    'nightly',
  );
  const paused = await request(app, {
    method: 'POST',
    url: '/v1/schedules/nightly/pause',
    headers: auth,
    payload: { note: 'freeze' },
  });
  expect(paused.json()).toMatchObject({ paused: true, note: 'freeze' });
  const unpaused = await request(app, { method: 'POST', url: '/v1/schedules/nightly/unpause', headers: auth });
  expect(unpaused.statusCode).toBe(200);
  expect(fake.callsOf('pauseSchedule')).toEqual([
    ['nightly', true, 'freeze'],
    ['nightly', false, undefined],
  ]);
  const deleted = await request(app, { method: 'DELETE', url: '/v1/schedules/nightly', headers: auth });
  expect(deleted.json()).toEqual({ schedule_id: 'nightly', deleted: true });
  expect((await request(app, { method: 'GET', url: '/v1/schedules/nightly', headers: auth })).statusCode).toBe(404);
});

test('a schedule without cron, with a task_id or with a bad id is refused with one sentence before the service is called', async () => {
  const noCron = await request(app, { method: 'POST', url: '/v1/schedules', headers: auth, payload: { prompt: 'p' } });
  expect(noCron.statusCode).toBe(400);
  expect(noCron.json().error.message).toBe('cron is required.');
  const taskId = await request(app, {
    method: 'POST',
    url: '/v1/schedules',
    headers: auth,
    payload: { prompt: 'p', cron: '0 9 * * *', task_id: 'x' },
  });
  expect(taskId.statusCode).toBe(400);
  expect(taskId.json().error.message).toBe('Unknown field "task_id" in the request body.');
  const badId = await request(app, { method: 'GET', url: '/v1/schedules/-bad', headers: auth });
  expect(badId.statusCode).toBe(400);
  expect(fake.callsOf('createSchedule')).toHaveLength(0);
  expect(fake.callsOf('describeSchedule')).toHaveLength(0);
});

test('/openapi.json is generated from the request schemas and lists every route', async () => {
  const res = await request(app, { method: 'GET', url: '/openapi.json', headers: auth });
  expect(res.statusCode).toBe(200);
  const doc = res.json();
  const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, methods]) =>
    Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`),
  );
  expect(routes.sort()).toEqual(
    [
      'POST /v1/tasks',
      'GET /v1/tasks',
      'GET /v1/tasks/{task_id}',
      'POST /v1/tasks/{task_id}/cancel',
      'POST /v1/tasks/{task_id}/approvals/{request_id}',
      'POST /v1/tasks/{task_id}/answers/{request_id}',
      'POST /v1/tasks/{task_id}/replies',
      'GET /v1/tasks/{task_id}/events',
      'POST /v1/notify-completed',
      'POST /v1/schedules',
      'GET /v1/schedules',
      'GET /v1/schedules/{schedule_id}',
      'POST /v1/schedules/{schedule_id}/pause',
      'POST /v1/schedules/{schedule_id}/unpause',
      'DELETE /v1/schedules/{schedule_id}',
      'GET /openapi.json',
      'GET /healthz',
    ].sort(),
  );
  const startBody = doc.paths['/v1/tasks'].post.requestBody.content['application/json'].schema;
  expect(startBody.required).toEqual(['prompt']);
  expect(startBody.properties.prompt).toMatchObject({ type: 'string', minLength: 1, maxLength: 100000 });
  expect(startBody.properties.sandbox.enum).toEqual(['read-only', 'workspace-write', 'danger-full-access']);
  expect(startBody.additionalProperties).toBe(false);
  expect(doc.paths['/v1/tasks'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
    'before',
    'limit',
    'notification_status',
    'notify_target',
    'status',
  ]);
  expect(doc.paths['/healthz'].get.security).toEqual([]);
  expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
});

test('without a configured token no route asks for one (loopback development)', async () => {
  const open = buildApiServer({ service: fake });
  const res = await request(open, { method: 'GET', url: '/v1/tasks/task-a' });
  expect(res.statusCode).toBe(200);
  await open.close();
});

test('responses are counted by route pattern and status', async () => {
  const metrics = createBridgeMetrics();
  const counted = await build({ metrics });
  await request(counted, { method: 'GET', url: '/v1/tasks/task-a', headers: auth });
  await request(counted, { method: 'GET', url: '/v1/tasks/nope', headers: auth });
  await request(counted, { method: 'GET', url: '/v1/tasks/nope' });
  const text = await metrics.registry.metrics();
  expect(text).toContain('codex_bridge_http_requests_total{method="GET",route="/v1/tasks/:task_id",status="200"} 1');
  expect(text).toContain('codex_bridge_http_requests_total{method="GET",route="/v1/tasks/:task_id",status="404"} 1');
  expect(text).toContain('codex_bridge_http_requests_total{method="GET",route="/v1/tasks/:task_id",status="401"} 1');
  await counted.close();
});

test('request log lines carry the task id and never the token', async () => {
  await request(app, { method: 'GET', url: '/v1/tasks/task-a', headers: auth });
  const line = logLines.map((l) => JSON.parse(l)).find((l) => l.msg === 'http request');
  expect(line).toMatchObject({
    level: 'info',
    method: 'GET',
    route: '/v1/tasks/:task_id',
    status: 200,
    task_id: 'task-a',
  });
  expect(logLines.join('')).not.toContain(TOKEN);
});

test('tokens are compared by digest: equal tokens match, any other does not', () => {
  const digest = createHash('sha256').update(TOKEN).digest();
  expect(tokenMatches(TOKEN, digest)).toBe(true);
  expect(tokenMatches(`${TOKEN}x`, digest)).toBe(false);
  expect(tokenMatches('', digest)).toBe(false);
});

describe('startApiServer', () => {
  test('refuses a non-loopback address without a token, in one sentence', async () => {
    const config = loadConfig({ CODEX_BRIDGE_API_ADDR: '0.0.0.0:0' });
    const attempt = startApiServer(config, { service: fake });
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(
      /^CODEX_BRIDGE_API_TOKEN is missing: the API would listen on 0\.0\.0\.0:0, which other machines can reach, so set a token or bind CODEX_BRIDGE_API_ADDR to 127\.0\.0\.1\.$/,
    );
  });

  test('listens on loopback and answers over real HTTP', async () => {
    const config = loadConfig({ CODEX_BRIDGE_API_ADDR: '127.0.0.1:0', CODEX_BRIDGE_API_TOKEN: TOKEN });
    const api = await startApiServer(config, { service: fake });
    try {
      expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${api.url}/v1/tasks/task-a`)).status).toBe(401);
      const res = await fetch(`${api.url}/v1/tasks/task-a`, { headers: auth });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { task_id: string }).task_id).toBe('task-a');
    } finally {
      await api.close();
    }
  });
});
