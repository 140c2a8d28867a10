// The command-line face of the dev launcher: flags, config, signals, exit code. The CLI's `dev`
// command calls runDevMain; scripts/dev falls back to `node dist/src/dev/run-dev.js` when the CLI entry is absent.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config';
import { BridgeError, ValidationError } from '../errors';
import { planDev } from './dev-plan';
import { runDev, type DevOptions } from './launcher';
import { killRecordedChildren } from './pid-file';

export const DEV_USAGE = [
  'Usage: codex-bridge dev [--temporal-port N] [--ui-port N] [--store-port N] [--api-addr HOST:PORT] [--data-dir DIR]',
  '',
  'Runs everything on this machine until Ctrl-C: the Temporal dev server with its Web UI (unless',
  'TEMPORAL_ADDRESS is set), FerretDB as the MongoDB store (unless MONGODB_URI is set), the worker and',
  'the HTTP API. State is kept in SQLite files under the data directory (default .data/).',
].join('\n');

export type DevFlags = Pick<DevOptions, 'temporalPort' | 'uiPort' | 'storePort' | 'apiAddr' | 'dataDir'>;

/** Throws ValidationError (exit code 2) for an unknown flag or a bad value. */
export function parseDevArgs(argv: string[]): DevFlags & { help: boolean } {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'temporal-port': { type: 'string' },
        'ui-port': { type: 'string' },
        'store-port': { type: 'string' },
        'api-addr': { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ValidationError(`${(err as Error).message.replace(/\.?$/, '')}; see --help.`);
  }
  const port = (flag: string): number | undefined => {
    const v = values[flag];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\d+$/.test(String(v)) || n < 1 || n > 65535)
      throw new ValidationError(`--${flag} must be a port number between 1 and 65535, not ${JSON.stringify(v)}.`);
    return n;
  };
  const apiAddr = values['api-addr'] as string | undefined;
  if (apiAddr !== undefined && !/^[^\s:]+:\d{1,5}$/.test(apiAddr))
    throw new ValidationError(`--api-addr must be host:port, e.g. 127.0.0.1:8787, not ${JSON.stringify(apiAddr)}.`);
  return {
    temporalPort: port('temporal-port'),
    uiPort: port('ui-port'),
    storePort: port('store-port'),
    apiAddr,
    dataDir: values['data-dir'] as string | undefined,
    help: values.help === true,
  };
}

export interface DevMainOptions {
  env?: NodeJS.ProcessEnv;
  /** Merged over what the flags say (tests use it for substitute worker/API commands). */
  overrides?: Partial<DevOptions>;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/**
 * Parses flags, loads the config, turns SIGINT/SIGTERM/SIGHUP into an orderly stop (a second one
 * kills every child at once) and returns the exit code: 0 stopped cleanly, 1 failed, 2 usage/config.
 */
export async function runDevMain(argv: string[], options: DevMainOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const out = options.out ?? ((line: string) => console.log(line));
  const err = options.err ?? ((line: string) => console.error(line));
  let flags: ReturnType<typeof parseDevArgs>;
  let config: ReturnType<typeof loadConfig>;
  try {
    flags = parseDevArgs(argv);
    if (flags.help) {
      out(DEV_USAGE);
      return 0;
    }
    config = loadConfig(env);
  } catch (e) {
    err((e as Error).message);
    return e instanceof ConfigError || e instanceof ValidationError ? 2 : 1;
  }

  const { help: _help, ...devFlags } = flags;
  const devOptions: DevOptions = { ...devFlags, env, log: out, ...options.overrides };
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) {
      out(`${signal}: stopping everything (press Ctrl-C again to kill at once)`);
      controller.abort();
      return;
    }
    killRecordedChildren(planDev(config, devOptions).pidFile);
    err('killed every child process at once.');
    process.exit(130);
  };
  const shutdownSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of shutdownSignals) process.on(s, onSignal);
  try {
    await runDev(config, { ...devOptions, signal: controller.signal });
    return 0;
  } catch (e) {
    err((e as Error).message);
    return e instanceof BridgeError ? e.exitCode : 1;
  } finally {
    for (const s of shutdownSignals) process.off(s, onSignal);
  }
}

if (require.main === module) {
  // exitCode rather than exit(): output written to a pipe is flushed before the process ends.
  void runDevMain(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
