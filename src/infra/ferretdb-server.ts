// Starts FerretDB on SQLite: a MongoDB-wire store that needs no other service.
import * as fs from 'node:fs';
import { ManagedProcess } from './managed-process';
import { freePort, waitForPort } from './free-port';
import { FERRETDB, requireTool } from './tool-paths';

export interface FerretDbOptions {
  port?: number;
  /** Directory for the SQLite files (created if missing). */
  dataDir: string;
  logFile?: string;
  /** The FerretDB binary (default: the patched build `scripts/setup` installs). */
  binary?: string;
  /** Log every SQL statement with its arguments, as JSON lines in logFile. */
  debugLog?: boolean;
}

export interface RunningStore {
  uri: string;
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * SQLite settings for many concurrent writers: WAL so readers never block the writer, a busy
 * timeout so a writer waits its turn instead of failing with SQLITE_BUSY, transactions that take
 * the write lock when they begin (a read lock upgraded later cannot wait, it fails at once), and
 * synchronous=NORMAL, which in WAL mode never corrupts the file and may lose only the last commits
 * on power loss — the mirror is rebuilt from Temporal, the source of truth.
 */
export function sqliteUrl(dir: string): string {
  const pragmas = ['busy_timeout(30000)', 'journal_mode(wal)', 'synchronous(normal)'];
  return `file:${dir}?${pragmas.map((p) => `_pragma=${encodeURIComponent(p)}`).join('&')}&_txlock=immediate`;
}

export async function startFerretDb(options: FerretDbOptions): Promise<RunningStore> {
  const bin = requireTool(options.binary ?? FERRETDB, 'FerretDB (the MongoDB-wire store)');
  fs.mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const dir = options.dataDir.endsWith('/') ? options.dataDir : `${options.dataDir}/`;
  const proc = new ManagedProcess({
    name: 'ferretdb',
    command: bin,
    args: [
      `--listen-addr=127.0.0.1:${port}`,
      `--sqlite-url=${sqliteUrl(dir)}`,
      ...(options.debugLog ? ['--debug-log'] : []),
    ],
    logFile: options.logFile,
  });
  try {
    await waitForPort('127.0.0.1', port, 30_000, () => proc.alive);
  } catch (err) {
    await proc.stop();
    throw new Error(`FerretDB did not start on 127.0.0.1:${port}: ${(err as Error).message}.`, { cause: err });
  }
  return { uri: `mongodb://127.0.0.1:${port}`, port, process: proc, stop: () => proc.stop() };
}
