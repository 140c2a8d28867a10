// Requests the API must refuse before anything reaches the task service: each with the status and
// the sentence it must answer with. The table is independent of the service behind the API, so
// the same cases run against the fake service now and against the real stack later
// (defineMalformedRequestSuite takes the setup).
import { randomUUID } from 'node:crypto';
import { send, type HttpRequest } from './http-client';

export interface MalformedCase {
  name: string;
  request: HttpRequest;
  status: number;
  message: RegExp;
  /** Send the request without the bearer token / with a wrong one (default: the right one). */
  auth?: 'none' | 'wrong';
}

export const API_TOKEN = 'test-token-4f7c2a9e';
/** A task id that exists in the suites' services, so a 400 cannot be a disguised 404 (unique per run: servers may be shared). */
export const KNOWN_TASK = `known-task-${randomUUID().slice(0, 8)}`;
export const KNOWN_REQUEST = 'req-1';

const post = (url: string, payload: unknown, extra: Partial<HttpRequest> = {}): HttpRequest => ({
  method: 'POST',
  url,
  payload,
  ...extra,
});
const rawJson = (url: string, body: string): HttpRequest => ({
  method: 'POST',
  url,
  payload: body,
  headers: { 'content-type': 'application/json' },
});
const tasks = '/v1/tasks';
const approval = `/v1/tasks/${KNOWN_TASK}/approvals/${KNOWN_REQUEST}`;
const answers = `/v1/tasks/${KNOWN_TASK}/answers/${KNOWN_REQUEST}`;
const replies = `/v1/tasks/${KNOWN_TASK}/replies`;
const ok = { prompt: 'fix the tests' };

export const MALFORMED_CASES: MalformedCase[] = [
  // POST /v1/tasks: the prompt
  { name: 'missing prompt', request: post(tasks, {}), status: 400, message: /^prompt is required\.$/ },
  { name: 'empty prompt', request: post(tasks, { prompt: '' }), status: 400, message: /^prompt must not be empty\.$/ },
  {
    name: 'blank prompt',
    request: post(tasks, { prompt: ' \n\t ' }),
    status: 400,
    message: /^prompt must not be blank\.$/,
  },
  {
    name: 'prompt over 100000 characters',
    request: post(tasks, { prompt: 'x'.repeat(100_001) }),
    status: 400,
    message: /^prompt must be at most 100000 characters\.$/,
  },
  {
    name: 'prompt is a number',
    request: post(tasks, { prompt: 42 }),
    status: 400,
    message: /^prompt must be a string\.$/,
  },
  {
    name: 'prompt is null',
    request: post(tasks, { prompt: null }),
    status: 400,
    message: /^prompt must be a string\.$/,
  },
  // notify_target grammar
  {
    name: 'target of unknown kind',
    request: post(tasks, { ...ok, notify_target: 'slack:C123' }),
    status: 400,
    message: /^notify_target "slack:C123" is invalid: unknown kind "slack"/,
  },
  {
    name: 'feishu target without chat id',
    request: post(tasks, { ...ok, notify_target: 'feishu:' }),
    status: 400,
    message: /^notify_target "feishu:" is invalid: the Feishu chat id/,
  },
  {
    name: 'hermes target without chat id',
    request: post(tasks, { ...ok, notify_target: 'hermes:telegram' }),
    status: 400,
    message: /^notify_target "hermes:telegram" is invalid: a Hermes target has a platform, a chat id/,
  },
  {
    name: 'hermes target with uppercase platform',
    request: post(tasks, { ...ok, notify_target: 'hermes:Telegram:1' }),
    status: 400,
    message: /the Hermes platform must be a lowercase name/,
  },
  {
    name: 'webhook target with ftp url',
    request: post(tasks, { ...ok, notify_target: 'webhook:ftp://example.com/x' }),
    status: 400,
    message: /the webhook needs an absolute http:\/\/ or https:\/\/ URL/,
  },
  {
    name: 'target with spaces around',
    request: post(tasks, { ...ok, notify_target: ' local' }),
    status: 400,
    message: /leading or trailing spaces/,
  },
  {
    name: 'target is a number',
    request: post(tasks, { ...ok, notify_target: 7 }),
    status: 400,
    message: /^notify_target must be a string\.$/,
  },
  // enums, ids and other fields
  {
    name: 'unknown sandbox',
    request: post(tasks, { ...ok, sandbox: 'yolo' }),
    status: 400,
    message: /^sandbox must be one of read-only, workspace-write, danger-full-access\.$/,
  },
  {
    name: 'unknown approval policy',
    request: post(tasks, { ...ok, approval_policy: 'always' }),
    status: 400,
    message: /^approval_policy must be one of never, on-request, untrusted\.$/,
  },
  {
    name: 'task id starting with a dash',
    request: post(tasks, { ...ok, task_id: '-x' }),
    status: 400,
    message: /^task_id must be 1-128 letters/,
  },
  {
    name: 'task id with a slash',
    request: post(tasks, { ...ok, task_id: 'a/b' }),
    status: 400,
    message: /^task_id must be 1-128 letters/,
  },
  {
    name: 'task id of 129 characters',
    request: post(tasks, { ...ok, task_id: 'a'.repeat(129) }),
    status: 400,
    message: /^task_id must be 1-128 letters/,
  },
  {
    name: 'relative cwd',
    request: post(tasks, { ...ok, cwd: 'src' }),
    status: 400,
    message: /^cwd must be an absolute path\.$/,
  },
  {
    name: 'empty model',
    request: post(tasks, { ...ok, model: '' }),
    status: 400,
    message: /^model must not be empty\.$/,
  },
  {
    name: 'unknown field',
    request: post(tasks, { ...ok, priority: 'high' }),
    status: 400,
    message: /^Unknown field "priority" in the request body\.$/,
  },
  {
    name: 'many long unknown fields',
    request: post(tasks, { ...ok, ['k'.repeat(500)]: 1, 'line\nbreak': 2, c: 3, d: 4 }),
    status: 400,
    message: /^Unknown fields "k{37}\.\.\.", "line\\nbreak", "c" and 1 more in the request body\.$/,
  },
  {
    name: 'body is an array',
    request: post(tasks, [ok]),
    status: 400,
    message: /^The request body must be a JSON object\.$/,
  },
  {
    name: 'body is a JSON string',
    request: rawJson(tasks, '"fix it"'),
    status: 400,
    message: /^The request body must be a JSON object\.$/,
  },
  {
    name: 'empty JSON body',
    request: rawJson(tasks, ''),
    status: 400,
    message: /^The request body must be a JSON object\.$/,
  },
  {
    name: 'invalid JSON',
    request: rawJson(tasks, '{"prompt": "x",'),
    status: 400,
    message: /^The request body is not valid JSON\.$/,
  },
  {
    name: 'prototype pollution attempt',
    request: rawJson(tasks, '{"prompt":"x","__proto__":{"admin":true}}'),
    status: 400,
    message: /not valid JSON/,
  },
  {
    name: 'text/plain body',
    request: post(tasks, 'fix the tests', { headers: { 'content-type': 'text/plain' } }),
    status: 415,
    message: /Content-Type: application\/json/,
  },
  {
    name: 'form-encoded body',
    request: post(tasks, 'prompt=x', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    status: 415,
    message: /application\/json/,
  },
  {
    name: 'body over 256 KiB',
    request: post(tasks, { prompt: 'x'.repeat(300_000) }),
    status: 413,
    message: /^The request body is larger than the 256 KiB limit\.$/,
  },
  // GET /v1/tasks filters
  {
    name: 'limit 0',
    request: { method: 'GET', url: `${tasks}?limit=0` },
    status: 400,
    message: /^limit must be at least 1\.$/,
  },
  {
    name: 'limit 5000',
    request: { method: 'GET', url: `${tasks}?limit=5000` },
    status: 400,
    message: /^limit must be at most 1000\.$/,
  },
  {
    name: 'limit abc',
    request: { method: 'GET', url: `${tasks}?limit=abc` },
    status: 400,
    message: /^limit must be a whole number from 1 to 1000\.$/,
  },
  {
    name: 'limit -1',
    request: { method: 'GET', url: `${tasks}?limit=-1` },
    status: 400,
    message: /^limit must be a whole number/,
  },
  {
    name: 'limit given twice',
    request: { method: 'GET', url: `${tasks}?limit=1&limit=2` },
    status: 400,
    message: /^limit must be given only once\.$/,
  },
  {
    name: 'unknown status filter',
    request: { method: 'GET', url: `${tasks}?status=done` },
    status: 400,
    message: /^status must be one of queued, running/,
  },
  {
    name: 'unknown notification_status filter',
    request: { method: 'GET', url: `${tasks}?notification_status=delivered` },
    status: 400,
    message: /^notification_status must be one of pending, sent, failed, no_target\.$/,
  },
  {
    name: 'bad notify_target filter',
    request: { method: 'GET', url: `${tasks}?notify_target=irc:x` },
    status: 400,
    message: /^notify_target "irc:x" is invalid/,
  },
  {
    name: 'unknown query parameter',
    request: { method: 'GET', url: `${tasks}?sort=asc` },
    status: 400,
    message: /^Unknown field "sort" in the query string\.$/,
  },
  // task and request ids in the path
  {
    name: 'task id with a space',
    request: { method: 'GET', url: '/v1/tasks/bad%20id' },
    status: 400,
    message: /^task_id must be 1-128 letters/,
  },
  {
    name: 'task id of 200 characters',
    request: { method: 'GET', url: `/v1/tasks/${'a'.repeat(200)}` },
    status: 400,
    message: /^task_id must be 1-128 letters/,
  },
  {
    name: 'task id with a dot first',
    request: { method: 'POST', url: '/v1/tasks/.hidden/cancel' },
    status: 400,
    message: /^task_id must be 1-128 letters/,
  },
  {
    name: 'malformed percent-encoding',
    request: { method: 'GET', url: '/v1/tasks/%E0%A4%A' },
    status: 400,
    message: /^The request URL is malformed\.$/,
  },
  {
    name: 'bad request id',
    request: post(`/v1/tasks/${KNOWN_TASK}/approvals/-r`, { decision: 'accept' }),
    status: 400,
    message: /^request_id must be 1-256 letters/,
  },
  // approvals, answers, replies, watcher
  { name: 'approval without decision', request: post(approval, {}), status: 400, message: /^decision is required\.$/ },
  {
    name: 'approval with unknown decision',
    request: post(approval, { decision: 'yes' }),
    status: 400,
    message: /^decision must be one of accept, accept_for_session, decline, cancel\.$/,
  },
  {
    name: 'approval with extra field',
    request: post(approval, { decision: 'accept', note: 'ok' }),
    status: 400,
    message: /^Unknown field "note"/,
  },
  {
    name: 'answers not an object',
    request: post(answers, { answers: 'yes' }),
    status: 400,
    message: /^answers must be a JSON object\.$/,
  },
  {
    name: 'answers empty',
    request: post(answers, { answers: {} }),
    status: 400,
    message: /^answers must contain at least one question id\.$/,
  },
  {
    name: 'answer not an array',
    request: post(answers, { answers: { q1: 'yes' } }),
    status: 400,
    message: /^answers\.q1 must be an array\.$/,
  },
  {
    name: 'answer with a number',
    request: post(answers, { answers: { q1: [1] } }),
    status: 400,
    message: /^answers\.q1\.0 must be a string\.$/,
  },
  { name: 'reply without prompt', request: post(replies, {}), status: 400, message: /^prompt is required\.$/ },
  {
    name: 'reply with blank prompt',
    request: post(replies, { prompt: '   ' }),
    status: 400,
    message: /^prompt must not be blank\.$/,
  },
  {
    name: 'watcher flag not boolean',
    request: post('/v1/notify-completed', { dry_run: 'yes' }),
    status: 400,
    message: /^dry_run must be true or false\.$/,
  },
  {
    name: 'watcher unknown field',
    request: post('/v1/notify-completed', { force: true }),
    status: 400,
    message: /^Unknown field "force"/,
  },
  // routes and methods that do not exist
  {
    name: 'unknown route',
    request: { method: 'GET', url: '/v1/nothing-here' },
    status: 404,
    message: /^There is no route GET \/v1\/nothing-here; GET \/openapi\.json lists the routes\.$/,
  },
  {
    name: 'wrong method',
    request: { method: 'DELETE', url: `/v1/tasks/${KNOWN_TASK}` },
    status: 404,
    message: /^There is no route DELETE/,
  },
  // authentication comes before everything else
  {
    name: 'no token',
    auth: 'none',
    request: { method: 'GET', url: tasks },
    status: 401,
    message: /^This route needs the header Authorization: Bearer/,
  },
  {
    name: 'wrong token',
    auth: 'wrong',
    request: { method: 'GET', url: tasks },
    status: 401,
    message: /^The bearer token .* is not the one/,
  },
  {
    name: 'wrong token on an unknown task',
    auth: 'wrong',
    request: { method: 'GET', url: '/v1/tasks/no-such-task' },
    status: 401,
    message: /bearer token/,
  },
  {
    name: 'wrong token on a known task',
    auth: 'wrong',
    request: { method: 'GET', url: `/v1/tasks/${KNOWN_TASK}` },
    status: 401,
    message: /bearer token/,
  },
  {
    name: 'wrong token on an unknown route',
    auth: 'wrong',
    request: { method: 'GET', url: '/v1/secret-admin' },
    status: 401,
    message: /bearer token/,
  },
  {
    name: 'wrong token with a malformed body',
    auth: 'wrong',
    request: rawJson(tasks, '{not json'),
    status: 401,
    message: /bearer token/,
  },
  {
    name: 'wrong token with an oversized body',
    auth: 'wrong',
    request: post(tasks, { prompt: 'x'.repeat(300_000) }),
    status: 401,
    message: /bearer token/,
  },
  {
    name: 'no token for openapi.json',
    auth: 'none',
    request: { method: 'GET', url: '/openapi.json' },
    status: 401,
    message: /Authorization: Bearer/,
  },
  {
    name: 'basic instead of bearer',
    request: {
      method: 'GET',
      url: tasks,
      headers: { authorization: `Basic ${Buffer.from(`u:${API_TOKEN}`).toString('base64')}` },
    },
    status: 401,
    message: /bearer token/,
  },
  {
    name: 'token with a suffix',
    request: { method: 'GET', url: tasks, headers: { authorization: `Bearer ${API_TOKEN}x` } },
    status: 401,
    message: /bearer token/,
  },
];

/** Sends a case with the right, a wrong or no token. */
export function sendCase(baseUrl: string, c: MalformedCase) {
  const headers: Record<string, string> = { ...(c.request.headers ?? {}) };
  if (headers.authorization === undefined) {
    if (c.auth === undefined) headers.authorization = `Bearer ${API_TOKEN}`;
    if (c.auth === 'wrong') headers.authorization = `Bearer ${API_TOKEN.slice(0, -1)}X`;
  }
  return send(baseUrl, { ...c.request, headers });
}

export interface MalformedSuiteTarget {
  /** Base URL of an API whose token is API_TOKEN and whose service knows KNOWN_TASK with pending KNOWN_REQUEST. */
  baseUrl: string;
  /** How many calls reached the task service so far. */
  serviceCalls(): number;
}

/** Registers one test per case: the status, the sentence, the error shape, and no service call. */
export function defineMalformedRequestSuite(title: string, target: () => MalformedSuiteTarget): void {
  describe(title, () => {
    test.each(MALFORMED_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const { baseUrl, serviceCalls } = target();
      const before = serviceCalls();
      const res = await sendCase(baseUrl, c);
      const body = res.json() as { error?: { code?: unknown; message?: unknown } };
      expect({ status: res.statusCode, body }).toEqual({
        status: c.status,
        body: { error: { code: expect.any(String), message: expect.stringMatching(c.message) } },
      });
      expect(String(body.error!.message)).toMatch(/^[^\n]+[.]$/); // one sentence, one line
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(serviceCalls()).toBe(before);
    });
  });
}
