// The admission settings: on by default with the limits the README states, `off` leaves them out
// of every task's input, and a bad limit is refused with one sentence naming the variable.
import { loadConfig } from '../../src/config';
import { expectConfigError } from './support/config-error';

test('admission is on by default: 4 turns per task queue, 1 per repository, 3 per notify target', () => {
  expect(loadConfig({ HOME: '/home/u' }).admission).toEqual({
    max_running: 4,
    per_repository: 1,
    per_notify_target: 3,
  });
});

test('limits are read; 0 means no limit; off turns admission off', () => {
  expect(
    loadConfig({
      CODEX_BRIDGE_MAX_RUNNING: '2',
      CODEX_BRIDGE_MAX_PER_REPOSITORY: '0',
      CODEX_BRIDGE_MAX_PER_TARGET: '1',
    }).admission,
  ).toEqual({ max_running: 2, per_repository: 0, per_notify_target: 1 });
  expect(loadConfig({ CODEX_BRIDGE_ADMISSION: 'off', CODEX_BRIDGE_MAX_RUNNING: '2' }).admission).toBeNull();
});

test.each([
  [{ CODEX_BRIDGE_ADMISSION: 'maybe' }, /^CODEX_BRIDGE_ADMISSION is invalid/],
  [{ CODEX_BRIDGE_MAX_RUNNING: '-1' }, /^CODEX_BRIDGE_MAX_RUNNING is invalid/],
  [{ CODEX_BRIDGE_MAX_PER_REPOSITORY: '1.5' }, /^CODEX_BRIDGE_MAX_PER_REPOSITORY is invalid/],
  [{ CODEX_BRIDGE_MAX_PER_TARGET: 'many' }, /^CODEX_BRIDGE_MAX_PER_TARGET is invalid/],
])('rejects %j with one sentence naming the variable', (env, pattern) => expectConfigError(env, pattern));
