// Bad input never reaches the service and never becomes a 500: the malformed-request table against
// the API backed by the recording fake service.
import type { FastifyInstance } from 'fastify';
import { buildApiServer } from '../../src/api/server';
import { FakeTaskService, makeTaskDocument } from './support/fake-task-service';
import { listen, send } from './support/http-client';
import {
  API_TOKEN,
  KNOWN_REQUEST,
  KNOWN_TASK,
  MALFORMED_CASES,
  defineMalformedRequestSuite,
} from './support/malformed-requests';
import { recordCalls, type Recorded } from './support/recording-service';

let app: FastifyInstance;
let baseUrl: string;
let recorded: Recorded;

beforeAll(async () => {
  const fake = new FakeTaskService();
  fake.tasks.set(
    KNOWN_TASK,
    makeTaskDocument({
      task_id: KNOWN_TASK,
      status: 'waiting_for_input',
      pending_requests: [
        {
          request_id: KNOWN_REQUEST,
          kind: 'command_approval',
          summary: 'run npm test',
          created_at: new Date().toISOString(),
        },
      ],
    }),
  );
  recorded = recordCalls(fake);
  app = buildApiServer({ service: recorded.service, token: API_TOKEN });
  baseUrl = await listen(app);
});

afterAll(() => app.close());

test('the table covers at least 25 malformed requests across every route', () => {
  expect(MALFORMED_CASES.length).toBeGreaterThanOrEqual(25);
  const urls = new Set(
    MALFORMED_CASES.map(
      (c) =>
        `${c.request.method} ${String(c.request.url).split('?')[0]!.replace(KNOWN_TASK, ':id').replace(KNOWN_REQUEST, ':req')}`,
    ),
  );
  for (const route of [
    'POST /v1/tasks',
    'GET /v1/tasks',
    'POST /v1/tasks/:id/approvals/:req',
    'POST /v1/tasks/:id/answers/:req',
    'POST /v1/tasks/:id/replies',
    'POST /v1/notify-completed',
  ]) {
    expect(urls).toContain(route);
  }
});

defineMalformedRequestSuite('malformed requests (fake service)', () => ({
  baseUrl,
  serviceCalls: () => recorded.calls.length,
}));

test('the same requests made well do reach the service (the table is not refusing everything)', async () => {
  const auth = { authorization: `Bearer ${API_TOKEN}` };
  const before = recorded.calls.length;
  const started = await send(baseUrl, {
    method: 'POST',
    url: '/v1/tasks',
    headers: auth,
    payload: { prompt: 'x'.repeat(100_000), notify_target: 'hermes:telegram:123:9', task_id: 'a'.repeat(128) },
  });
  expect(started.statusCode).toBe(201);
  const listed = await send(baseUrl, {
    method: 'GET',
    url: '/v1/tasks?limit=1000&status=running&notification_status=no_target&notify_target=local',
    headers: auth,
  });
  expect(listed.statusCode).toBe(200);
  const approved = await send(baseUrl, {
    method: 'POST',
    url: `/v1/tasks/${KNOWN_TASK}/approvals/${KNOWN_REQUEST}`,
    headers: auth,
    payload: { decision: 'accept_for_session' },
  });
  expect(approved.statusCode).toBe(200);
  expect(recorded.calls.length - before).toBe(3);
});
