// The settings of the app-server pool and the worker's workflow cache: defaults, bounds, and one
// clear sentence for a bad value.
import { ConfigError, defaultAppServers, loadConfig } from '../../src/config';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../../src/worker-memory';

test('the pool size defaults to two processes, one per four cores on bigger machines, at most eight', () => {
  expect([1, 2, 4, 8, 12, 16, 64].map((cpus) => defaultAppServers(cpus))).toEqual([2, 2, 2, 2, 3, 4, 8]);
  expect(loadConfig({}).codex.appServers).toBe(defaultAppServers());
  expect(loadConfig({ CODEX_BRIDGE_APP_SERVERS: '' }).codex.appServers).toBe(defaultAppServers());
});

test('CODEX_BRIDGE_APP_SERVERS: 0 spawns an app-server per turn; up to 64 shared ones', () => {
  expect(loadConfig({ CODEX_BRIDGE_APP_SERVERS: '0' }).codex.appServers).toBe(0);
  expect(loadConfig({ CODEX_BRIDGE_APP_SERVERS: ' 5 ' }).codex.appServers).toBe(5);
  expect(loadConfig({ CODEX_BRIDGE_APP_SERVERS: '64' }).codex.appServers).toBe(64);
});

test('the workflow cache is bounded by default and configurable', () => {
  expect(loadConfig({}).workflowCacheSize).toBe(DEFAULT_MAX_CACHED_WORKFLOWS);
  expect(loadConfig({ CODEX_BRIDGE_WORKFLOW_CACHE: '40' }).workflowCacheSize).toBe(40);
});

test.each([
  [
    { CODEX_BRIDGE_APP_SERVERS: '65' },
    /^CODEX_BRIDGE_APP_SERVERS is invalid \("65"\): must be a whole number from 0 to 64 \(0: a fresh app-server for every turn\)\.$/,
  ],
  [{ CODEX_BRIDGE_APP_SERVERS: 'two' }, /^CODEX_BRIDGE_APP_SERVERS is invalid/],
  [{ CODEX_BRIDGE_APP_SERVERS: '1.5' }, /^CODEX_BRIDGE_APP_SERVERS is invalid/],
  [
    { CODEX_BRIDGE_WORKFLOW_CACHE: '1' },
    /^CODEX_BRIDGE_WORKFLOW_CACHE is invalid \("1"\): must be a whole number from 2 to 100000\.$/,
  ],
])('rejects %j with one sentence naming the variable', (env, pattern) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(pattern);
});
