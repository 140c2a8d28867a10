import { ConfigError, loadConfig, parseDuration } from '../../src/config';

const expectConfigError = (env: NodeJS.ProcessEnv, pattern: RegExp) => {
  let error: unknown;
  try {
    loadConfig(env);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as Error).message;
  expect(message).toMatch(pattern);
  expect(message.split('\n')).toHaveLength(1); // one sentence
};

test('defaults are the documented ones', () => {
  const c = loadConfig({ HOME: '/home/u' });
  expect(c.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'codex-bridge' });
  expect(c.mongo).toEqual({ uri: 'mongodb://127.0.0.1:27017', db: 'codex_bridge' });
  expect(c.api.addr).toBe('127.0.0.1:8787');
  expect(c.notifiers.feishu.baseUrl).toBe('https://open.feishu.cn');
  expect(c.notifiers.localInbox).toMatch(/\.codex-bridge\/inbox\.jsonl$/);
  expect(c.codex.configOverrides).toEqual([]);
  expect(c.codex.allowedRoots).toEqual([]);
});

test('values are read and normalised', () => {
  const c = loadConfig({
    TEMPORAL_ADDRESS: 'temporal:7233',
    CODEX_BRIDGE_CODEX_CONFIG: '["model=\\"o3\\"", "sandbox_mode=\\"read-only\\""]',
    CODEX_BRIDGE_ALLOWED_ROOTS: '/srv/a:/srv/b/',
    FEISHU_APP_ID: 'cli_1',
    FEISHU_APP_SECRET: 's',
    FEISHU_BASE_URL: 'http://127.0.0.1:9999/',
    CODEX_BRIDGE_TURN_TIMEOUT: '90s',
  });
  expect(c.temporal.address).toBe('temporal:7233');
  expect(c.codex.configOverrides).toEqual(['model="o3"', 'sandbox_mode="read-only"']);
  expect(c.codex.allowedRoots).toEqual(['/srv/a', '/srv/b']);
  expect(c.notifiers.feishu).toEqual({ appId: 'cli_1', appSecret: 's', baseUrl: 'http://127.0.0.1:9999', longConnection: false });
  expect(c.codex.turnTimeoutMs).toBe(90_000);
});

test.each([
  [{ TEMPORAL_ADDRESS: 'no-port' }, /^TEMPORAL_ADDRESS is invalid .*host:port/],
  [{ TEMPORAL_ADDRESS: 'h:99999' }, /^TEMPORAL_ADDRESS is invalid/],
  [{ MONGODB_URI: 'postgres://x' }, /^MONGODB_URI is invalid .*mongodb:\/\//],
  [{ MONGODB_DB: 'bad name' }, /^MONGODB_DB is invalid/],
  [{ CODEX_BRIDGE_CODEX_CONFIG: '{"a":1}' }, /^CODEX_BRIDGE_CODEX_CONFIG is invalid .*JSON array of strings/],
  [{ CODEX_BRIDGE_CODEX_CONFIG: '[1,2]' }, /^CODEX_BRIDGE_CODEX_CONFIG is invalid/],
  [{ CODEX_BRIDGE_API_ADDR: '8787' }, /^CODEX_BRIDGE_API_ADDR is invalid/],
  [{ FEISHU_BASE_URL: 'ftp://x' }, /^FEISHU_BASE_URL is invalid/],
  [{ HERMES_WEBHOOK_URL: 'not a url', HERMES_WEBHOOK_SECRET: 's' }, /^HERMES_WEBHOOK_URL is invalid/],
  [{ HERMES_WEBHOOK_ROUTES: '[]' }, /^HERMES_WEBHOOK_ROUTES is invalid/],
  [{ CODEX_BRIDGE_TURN_TIMEOUT: 'soon' }, /^CODEX_BRIDGE_TURN_TIMEOUT is invalid .*duration/],
  [{ CODEX_BRIDGE_LOG_LEVEL: 'loud' }, /^CODEX_BRIDGE_LOG_LEVEL is invalid/],
  [{ FEISHU_APP_ID: 'cli_1' }, /^FEISHU_APP_SECRET is missing/],
  [{ HERMES_WEBHOOK_URL: 'http://127.0.0.1:1/webhooks/x' }, /^HERMES_WEBHOOK_SECRET is missing/],
])('rejects %j with one sentence naming the variable', (env, pattern) => {
  expectConfigError(env, pattern);
});

test('secrets are not echoed in errors', () => {
  expectConfigError({ FEISHU_APP_ID: 'id', FEISHU_APP_SECRET: 's3cret', FEISHU_BASE_URL: 'nope' }, /^FEISHU_BASE_URL/);
  try {
    loadConfig({ HERMES_WEBHOOK_URL: 'http://x/', HERMES_WEBHOOK_SECRET: 'zzz', FEISHU_APP_ID: 'a', FEISHU_APP_SECRET: 'topsecret', CODEX_BRIDGE_LOG_LEVEL: 'x' });
  } catch (e) {
    expect((e as Error).message).not.toMatch(/topsecret|zzz/);
  }
});

test('durations', () => {
  expect(parseDuration('500ms')).toBe(500);
  expect(parseDuration('2h')).toBe(7_200_000);
  expect(parseDuration('1.5m')).toBe(90_000);
  expect(parseDuration('1000')).toBe(1000);
  expect(parseDuration('0')).toBeNull();
  expect(parseDuration('-1s')).toBeNull();
});
