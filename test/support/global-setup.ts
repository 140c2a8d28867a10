// Starts the real servers the suites share: a Temporal dev server and a MongoDB-wire store on free
// loopback ports (unless TEMPORAL_ADDRESS / MONGODB_URI point at ones the user runs), and hands
// their addresses to the test workers through the environment.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startFerretDb, type RunningStore } from '../../src/infra/ferretdb-server';
import { startTemporalDevServer, type RunningTemporal } from '../../src/infra/temporal-dev-server';
import { signalGroup } from '../../src/infra/managed-process';

interface Started {
  temporal?: RunningTemporal;
  store?: RunningStore;
  scratch: string;
}

declare global {
  var __codexBridgeTestServers: Started | undefined;
}

export default async function globalSetup(): Promise<void> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-bridge-test-'));
  const started: Started = { scratch };
  globalThis.__codexBridgeTestServers = started;
  const [temporal, store] = await Promise.all([
    process.env.TEMPORAL_ADDRESS
      ? undefined
      : startTemporalDevServer({
          uiPort: null,
          dbFile: path.join(scratch, 'temporal.db'),
          logFile: path.join(scratch, 'temporal.log'),
        }),
    process.env.MONGODB_URI
      ? undefined
      : startFerretDb({ dataDir: path.join(scratch, 'store'), logFile: path.join(scratch, 'ferretdb.log') }),
  ]);
  started.temporal = temporal;
  started.store = store;
  // If the run is interrupted before the teardown, still take the servers down with it.
  process.once('exit', () => {
    for (const pid of [temporal?.process.pid, store?.process.pid]) if (pid) signalGroup(pid, 'SIGKILL');
  });
  if (temporal) process.env.TEMPORAL_ADDRESS = temporal.address;
  if (store) process.env.MONGODB_URI = store.uri;
  process.env.CODEX_BRIDGE_TEST_SCRATCH = scratch;
}
