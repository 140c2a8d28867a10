// The edges against the real task service (Temporal dev server + store from the global setup; no
// worker, so tasks stay queued): the malformed-request table again, where "not called" now also
// means "nothing created", and the happy paths that need no worker.
import type { FastifyInstance } from 'fastify';
import { buildApiServer } from '../../src/api/server';
import { createTaskService } from '../../src/client/task-service';
import { makeTestEnv, type TestEnv } from '../support/test-env';
import { listen, send } from './support/http-client';
import { API_TOKEN, KNOWN_TASK, defineMalformedRequestSuite } from './support/malformed-requests';
import { recordCalls, type Recorded } from './support/recording-service';
import { cli, onlyJson } from './support/run-cli';

let testEnv: TestEnv;
let handle: Awaited<ReturnType<typeof createTaskService>>;
let recorded: Recorded;
let app: FastifyInstance;
let baseUrl: string;
const auth = { authorization: `Bearer ${API_TOKEN}` };

beforeAll(async () => {
  testEnv = makeTestEnv();
  handle = await createTaskService(testEnv.config);
  await handle.service.start({ prompt: 'the known task', task_id: KNOWN_TASK, cwd: testEnv.scratch });
  recorded = recordCalls(handle.service);
  app = buildApiServer({
    service: recorded.service,
    token: API_TOKEN,
    health: async () => {
      const { temporal, store } = await handle.service.health();
      return { ok: temporal && store };
    },
  });
  baseUrl = await listen(app);
});

afterAll(async () => {
  await app?.close();
  await handle?.close();
});

defineMalformedRequestSuite('malformed requests (real service)', () => ({
  baseUrl,
  serviceCalls: () => recorded.calls.length,
}));

test('nothing was created by the malformed requests', async () => {
  const { tasks } = (await send(baseUrl, { method: 'GET', url: '/v1/tasks?limit=1000', headers: auth })).json();
  expect(tasks.map((t: { task_id: string }) => t.task_id)).toEqual([KNOWN_TASK]);
});

test('start, status, list, duplicate, unknown and cancel through the API', async () => {
  const started = await send(baseUrl, {
    method: 'POST',
    url: '/v1/tasks',
    headers: auth,
    payload: { prompt: 'real start', task_id: `api-real-${testEnv.id}`, cwd: testEnv.scratch, notify_target: 'local' },
  });
  expect(started.statusCode).toBe(201);
  expect(started.json()).toMatchObject({
    task_id: `api-real-${testEnv.id}`,
    workflow_id: `api-real-${testEnv.id}`,
    status: 'queued',
    notify_target: 'local',
    cwd: testEnv.scratch,
  });

  const status = await send(baseUrl, { method: 'GET', url: `/v1/tasks/api-real-${testEnv.id}`, headers: auth });
  expect(status.statusCode).toBe(200);
  expect(status.json().prompt).toBe('real start');

  const listed = await send(baseUrl, { method: 'GET', url: '/v1/tasks?notify_target=local', headers: auth });
  expect(listed.json().tasks.map((t: { task_id: string }) => t.task_id)).toEqual([`api-real-${testEnv.id}`]);

  const duplicate = await send(baseUrl, {
    method: 'POST',
    url: '/v1/tasks',
    headers: auth,
    payload: { prompt: 'again', task_id: `api-real-${testEnv.id}`, cwd: testEnv.scratch },
  });
  expect(duplicate.statusCode).toBe(409);
  expect(duplicate.json().error.code).toBe('conflict');

  const unknown = await send(baseUrl, { method: 'GET', url: '/v1/tasks/api-real-none', headers: auth });
  expect(unknown.statusCode).toBe(404);
  expect(unknown.json().error.code).toBe('not_found');

  const cancelled = await send(baseUrl, {
    method: 'POST',
    url: `/v1/tasks/api-real-${testEnv.id}/cancel`,
    headers: auth,
  });
  expect(cancelled.statusCode).toBe(202);
  expect(cancelled.json()).toEqual({ task_id: `api-real-${testEnv.id}`, status: 'cancelling' });
});

test('/healthz reports ready from the real probe', async () => {
  const res = await send(baseUrl, { method: 'GET', url: '/healthz' });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toEqual({ ok: true });
});

test('the CLI against the real service: start --json, status, list, unknown task', async () => {
  const env = testEnv.env;
  const started = await cli(
    ['start', '--prompt', 'from the cli', '--task-id', `cli-real-${testEnv.id}`, '--cwd', testEnv.scratch, '--json'],
    { env },
  );
  expect(started.stderr).toBe('');
  expect(started.code).toBe(0);
  expect(onlyJson(started)).toMatchObject({ task_id: `cli-real-${testEnv.id}`, status: 'queued' });

  const status = await cli(['status', `cli-real-${testEnv.id}`], { env });
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(new RegExp(`^task +cli-real-${testEnv.id}$`, 'm'));

  const list = await cli(['list', '--limit', '10'], { env });
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(new RegExp(`^cli-real-${testEnv.id} +queued +- +- +\\d+s$`, 'm'));

  const missing = await cli(['status', 'cli-real-none', '--json'], { env });
  expect(missing.code).toBe(3);
  expect(onlyJson(missing).error.code).toBe('not_found');

  const duplicate = await cli(
    ['start', '--prompt', 'again', '--task-id', `cli-real-${testEnv.id}`, '--cwd', testEnv.scratch],
    { env },
  );
  expect(duplicate.code).toBe(4);
});
