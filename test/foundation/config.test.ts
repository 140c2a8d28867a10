import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, parseDuration } from '../../src/config';
import { describeTemporalSecurity, temporalConnectionOptions } from '../../src/infra/temporal-connection';
import { expectConfigError } from './support/config-error';

test('defaults are the documented ones', () => {
  const c = loadConfig({ HOME: '/home/u' });
  expect(c.temporal).toEqual({
    address: '127.0.0.1:7233',
    namespace: 'default',
    taskQueue: 'codex-bridge',
    registerSearchAttributes: false,
  });
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
  expect(c.notifiers.feishu).toEqual({
    appId: 'cli_1',
    appSecret: 's',
    baseUrl: 'http://127.0.0.1:9999',
    longConnection: false,
  });
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
    loadConfig({
      HERMES_WEBHOOK_URL: 'http://x/',
      HERMES_WEBHOOK_SECRET: 'zzz',
      FEISHU_APP_ID: 'a',
      FEISHU_APP_SECRET: 'topsecret',
      CODEX_BRIDGE_LOG_LEVEL: 'x',
    });
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

describe('connecting to a secured Temporal', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-tls-'));
  const pem = (name: string, body: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `-----BEGIN ${body}-----\nAAAA\n-----END ${body}-----\n`);
    return file;
  };
  const ca = pem('ca.pem', 'CERTIFICATE');
  const cert = pem('client.pem', 'CERTIFICATE');
  const key = pem('client.key', 'PRIVATE KEY');
  const notPem = path.join(dir, 'notes.txt');
  fs.writeFileSync(notPem, 'hello');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('without TLS settings the connection is plain text', () => {
    const c = loadConfig({});
    expect(c.temporal.tls).toBeUndefined();
    expect(temporalConnectionOptions(c.temporal)).toEqual({ address: '127.0.0.1:7233' });
    expect(describeTemporalSecurity(c.temporal)).toBe('plain text');
  });

  test('TEMPORAL_TLS=true alone uses TLS with the system CAs', () => {
    const c = loadConfig({ TEMPORAL_TLS: 'true', TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233' });
    expect(c.temporal.tls).toEqual({});
    expect(temporalConnectionOptions(c.temporal)).toEqual({ address: 'ns.acct.tmprl.cloud:7233', tls: {} });
    expect(describeTemporalSecurity(c.temporal)).toBe('TLS (system CAs)');
  });

  test('mTLS files are read into the options, with the CA and the server name', () => {
    const c = loadConfig({
      TEMPORAL_TLS_CA_FILE: ca,
      TEMPORAL_TLS_CERT_FILE: cert,
      TEMPORAL_TLS_KEY_FILE: key,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const options = temporalConnectionOptions(c.temporal);
    expect(options.tls?.serverNameOverride).toBe('temporal.internal');
    expect(Buffer.from(options.tls!.serverRootCACertificate!).toString()).toBe(fs.readFileSync(ca, 'utf8'));
    expect(Buffer.from(options.tls!.clientCertPair!.crt).toString()).toBe(fs.readFileSync(cert, 'utf8'));
    expect(Buffer.from(options.tls!.clientCertPair!.key).toString()).toBe(fs.readFileSync(key, 'utf8'));
    expect(options.apiKey).toBeUndefined();
    expect(describeTemporalSecurity(c.temporal)).toBe(
      'TLS (client certificate, private CA, server name temporal.internal)',
    );
  });

  test('an API key implies TLS and travels in the options, never in the description', () => {
    const c = loadConfig({ TEMPORAL_API_KEY: 'tmprl-api-key-0123456789' });
    expect(temporalConnectionOptions(c.temporal)).toEqual({
      address: '127.0.0.1:7233',
      tls: {},
      apiKey: 'tmprl-api-key-0123456789',
    });
    expect(describeTemporalSecurity(c.temporal)).toBe('TLS (system CAs, API key)');
  });

  test('registering search attributes on start is a switch', () => {
    expect(loadConfig({ CODEX_BRIDGE_REGISTER_SEARCH_ATTRIBUTES: 'true' }).temporal.registerSearchAttributes).toBe(
      true,
    );
    expect(loadConfig({ CODEX_BRIDGE_REGISTER_SEARCH_ATTRIBUTES: 'off' }).temporal.registerSearchAttributes).toBe(
      false,
    );
  });

  test.each([
    [
      () => ({ TEMPORAL_TLS_CA_FILE: path.join(dir, 'missing.pem') }),
      /^TEMPORAL_TLS_CA_FILE is invalid .*: no such file\.$/,
    ],
    [() => ({ TEMPORAL_TLS_CA_FILE: notPem }), /^TEMPORAL_TLS_CA_FILE is invalid .*not a PEM file/],
    [() => ({ TEMPORAL_TLS_CERT_FILE: cert }), /^TEMPORAL_TLS_KEY_FILE is missing: .*together/],
    [() => ({ TEMPORAL_TLS_KEY_FILE: key }), /^TEMPORAL_TLS_CERT_FILE is missing: .*together/],
    [() => ({ TEMPORAL_TLS: 'maybe' }), /^TEMPORAL_TLS is invalid .*true or false/],
    [
      () => ({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }),
      /^TEMPORAL_TLS is false but TEMPORAL_API_KEY is sent only over TLS/,
    ],
    [
      () => ({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA_FILE: ca }),
      /^TEMPORAL_TLS is false but the TEMPORAL_TLS_\* files/,
    ],
    [
      () => ({ CODEX_BRIDGE_REGISTER_SEARCH_ATTRIBUTES: 'sure' }),
      /^CODEX_BRIDGE_REGISTER_SEARCH_ATTRIBUTES is invalid/,
    ],
  ])('bad TLS settings get one sentence naming the variable (%#)', (env, pattern) => {
    expectConfigError(env(), pattern);
  });

  test('the API key is not echoed in errors', () => {
    expectConfigError({ TEMPORAL_API_KEY: 'tmprl-secret-key', TEMPORAL_TLS: 'false' }, /^TEMPORAL_TLS/);
    try {
      loadConfig({ TEMPORAL_API_KEY: 'tmprl-secret-key', TEMPORAL_TLS: 'false' });
    } catch (e) {
      expect((e as Error).message).not.toMatch(/tmprl-secret-key/);
    }
  });

  test('a certificate file gone after start fails the connection with a sentence naming the variable', () => {
    const moved = pem('moved.pem', 'CERTIFICATE');
    const c = loadConfig({ TEMPORAL_TLS_CA_FILE: moved });
    fs.rmSync(moved);
    expect(() => temporalConnectionOptions(c.temporal)).toThrow(
      /^TEMPORAL_TLS_CA_FILE \(.*moved\.pem\) cannot be read: ENOENT\.$/,
    );
  });
});
