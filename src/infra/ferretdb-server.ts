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
}

export interface RunningStore {
  uri: string;
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export async function startFerretDb(options: FerretDbOptions): Promise<RunningStore> {
  const bin = requireTool(FERRETDB, 'FerretDB (the MongoDB-wire store)');
  fs.mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const dir = options.dataDir.endsWith('/') ? options.dataDir : `${options.dataDir}/`;
  const proc = new ManagedProcess({
    name: 'ferretdb',
    command: bin,
    args: [`--listen-addr=127.0.0.1:${port}`, `--sqlite-url=file:${dir}`],
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
