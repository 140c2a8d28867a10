// JSON-line logs: the fields readers rely on, level filtering, and secrets that never get through.
import { loadConfig } from '../../src/config';
import {
  clearSecrets,
  createLogger,
  createTemporalLogger,
  redactText,
  registerConfigSecrets,
  registerSecret,
} from '../../src/logging';

let lines: string[];
const logger = (level: 'debug' | 'info' | 'warn' | 'error' = 'debug') =>
  createLogger({ level, write: (l) => void lines.push(l) });
const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

beforeEach(() => {
  lines = [];
  clearSecrets();
});

test('each line is one JSON object with time, level, msg, task_id and the context', () => {
  logger().child({ task_id: 'fix-1', component: 'worker' }).info('turn finished', { turn: 2 });
  expect(lines).toHaveLength(1);
  expect(lines[0]!.endsWith('\n')).toBe(true);
  expect(lines[0]!.trimEnd()).not.toContain('\n');
  const [line] = parsed();
  expect(line).toEqual({
    time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    level: 'info',
    msg: 'turn finished',
    task_id: 'fix-1',
    component: 'worker',
    turn: 2,
  });
});

test('lines below the configured level are dropped', () => {
  const log = logger('warn');
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  expect(parsed().map((l) => l.level)).toEqual(['warn', 'error']);
});

test('the configured secrets never appear, wherever they are carried', () => {
  const config = loadConfig({
    CODEX_BRIDGE_API_TOKEN: 'api-token-abcdef',
    FEISHU_APP_ID: 'cli_app',
    FEISHU_APP_SECRET: 'feishu-secret-123456',
    HERMES_WEBHOOK_URL: 'http://127.0.0.1:8644/webhooks/codex',
    HERMES_WEBHOOK_SECRET: 'hermes-hmac-secret',
    CODEX_BRIDGE_WEBHOOK_SECRET: 'webhook-hmac-secret',
    MONGODB_URI: 'mongodb://bridge:p%40ssw0rd@db:27017',
    TEMPORAL_API_KEY: 'tmprl-api-key-9876543210',
  });
  registerConfigSecrets(config);
  const log = logger();
  log.info('posting with api-token-abcdef', {
    request: { body: '{"app_secret":"feishu-secret-123456"}', url: 'http://x/?sig=hermes-hmac-secret' },
    note: [
      'webhook-hmac-secret',
      'mongodb://bridge:p%40ssw0rd@db:27017',
      'password p@ssw0rd',
      'metadata x-key tmprl-api-key-9876543210',
    ],
    error: new Error('401 for feishu-secret-123456'),
  });
  const text = lines.join('');
  for (const secret of [
    'api-token-abcdef',
    'feishu-secret-123456',
    'hermes-hmac-secret',
    'webhook-hmac-secret',
    'p%40ssw0rd',
    'p@ssw0rd',
    'tmprl-api-key-9876543210',
  ]) {
    expect(text).not.toContain(secret);
  }
  const [line] = parsed();
  expect(line!.msg).toBe('posting with ***');
  expect((line!.error as { message: string }).message).toBe('401 for ***');
  expect(text).toContain('mongodb://bridge:***@db:27017');
});

test('bearer headers, secret-named keys and URL passwords are redacted without registration', () => {
  logger().warn('call failed', {
    headers: { authorization: 'Bearer eyJhbGciOi.J9.xyz', 'content-type': 'application/json' },
    api_token: 'unregistered-token',
    appSecret: 'also-hidden',
    detail: 'sent Authorization: Bearer abc.def-123 to https://user:hunter2@example.com/x',
  });
  const [line] = parsed();
  expect(line).toMatchObject({
    headers: { authorization: '***', 'content-type': 'application/json' },
    api_token: '***',
    appSecret: '***',
    detail: 'sent Authorization: Bearer *** to https://user:***@example.com/x',
  });
});

test('redactText removes the longest registered secret first', () => {
  registerSecret('abcd');
  registerSecret('abcdefgh');
  expect(redactText('x abcdefgh y abcd')).toBe('x *** y ***');
});

test('values too short to be secrets are not registered (they would shred every line)', () => {
  registerSecret('s');
  expect(redactText('status: success')).toBe('status: success');
});

test('a context that cannot be serialised still gives one line', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  logger().info('odd', { cyclic, n: BigInt(5) });
  expect(parsed()[0]).toMatchObject({ msg: 'odd', n: '5' });
});

test('the Temporal logger writes the same lines, with workflowId as task_id and SDK levels mapped', () => {
  registerSecret('temporal-secret-1');
  const temporal = createTemporalLogger(logger('info'));
  temporal.trace('noise');
  temporal.info('Workflow started', { workflowId: 'fix-1', runId: 'r1', [Symbol.for('ts')]: 1 });
  temporal.log('WARN', 'activity retry with temporal-secret-1', { activityType: 'notify' });
  temporal.error('boom', { error: new Error('bad') });
  expect(parsed()).toEqual([
    expect.objectContaining({
      level: 'info',
      msg: 'Workflow started',
      task_id: 'fix-1',
      workflowId: 'fix-1',
      runId: 'r1',
      source: 'temporal',
    }),
    expect.objectContaining({ level: 'warn', msg: 'activity retry with ***', activityType: 'notify' }),
    expect.objectContaining({
      level: 'error',
      msg: 'boom',
      error: expect.objectContaining({ type: 'Error', message: 'bad' }),
    }),
  ]);
});
