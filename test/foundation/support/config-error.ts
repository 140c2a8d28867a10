// Checks that a configuration is refused with one sentence matching `pattern`.
import { ConfigError, loadConfig } from '../../../src/config';

export function expectConfigError(env: NodeJS.ProcessEnv, pattern: RegExp): void {
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
}
