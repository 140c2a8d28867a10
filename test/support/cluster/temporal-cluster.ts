// A production-shaped Temporal on loopback: the multi-service `temporal-server` binary (frontend,
// history, matching and worker services in one process) on PostgreSQL for persistence and for
// visibility, with mTLS on the frontend. It starts with no namespace and no search attributes, as
// a new cluster does; `codex-bridge init` sets those up.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { waitForPort } from '../../../src/infra/free-port';
import { ManagedProcess } from '../../../src/infra/managed-process';
import { temporalConnectionOptions } from '../../../src/infra/temporal-connection';
import { requireTool, TOOLS_DIR } from '../../../src/infra/tool-paths';
import { makeClusterCertificates, type ClusterCertificates } from './certificates';
import { startPostgres, type RunningPostgres } from './postgres';

export const TEMPORAL_SERVER = path.join(TOOLS_DIR, 'bin', 'temporal-server');
export const TEMPORAL_SQL_TOOL = path.join(TOOLS_DIR, 'bin', 'temporal-sql-tool');
export const TEMPORAL_SCHEMA_DIR = path.join(TOOLS_DIR, 'temporal-schema', 'postgresql', 'v12');

const run = promisify(execFile);

export interface RunningCluster {
  address: string;
  certs: ClusterCertificates;
  postgres: RunningPostgres;
  process: ManagedProcess;
  /** The bridge settings that reach it (mTLS with the run's CA and client certificate). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Where the certificates, the server config and the logs go. */
  dir: string;
}

const START_TIMEOUT_MS = 120_000;

export async function startTemporalCluster(options: ClusterOptions): Promise<RunningCluster> {
  const server = requireTool(TEMPORAL_SERVER, 'temporal-server');
  requireTool(TEMPORAL_SQL_TOOL, 'temporal-sql-tool');
  requireTool(TEMPORAL_SCHEMA_DIR, 'The Temporal PostgreSQL schema');
  fs.mkdirSync(options.dir, { recursive: true });
  const certs = makeClusterCertificates(path.join(options.dir, 'certs'));
  const postgres = await startPostgres({ logFile: path.join(options.dir, 'postgres.log') });
  let proc: ManagedProcess | undefined;
  try {
    await createSchemas(postgres);
    const ports = await freePorts(10);
    const configFile = writeServerConfig(options.dir, postgres, certs, ports);
    proc = new ManagedProcess({
      name: 'temporal-server',
      command: server,
      args: ['--config-file', configFile, '--allow-no-auth', 'start'],
      cwd: options.dir,
      logFile: path.join(options.dir, 'temporal-server.log'),
    });
    const address = `127.0.0.1:${ports[0]}`;
    const env = {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TLS_CA_FILE: certs.ca,
      TEMPORAL_TLS_CERT_FILE: certs.clientCert,
      TEMPORAL_TLS_KEY_FILE: certs.clientKey,
      // The certificate names 127.0.0.1 too, but TLS sends only host names as SNI.
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    };
    await waitForFrontend(address, certs, proc);
    const started = proc;
    return {
      address,
      certs,
      postgres,
      process: started,
      env,
      stop: async () => {
        await started.stop(10_000);
        await postgres.stop();
      },
    };
  } catch (err) {
    await proc?.stop();
    await postgres.stop();
    throw err;
  }
}

async function createSchemas(postgres: RunningPostgres): Promise<void> {
  const base = ['--plugin', 'postgres12', '--ep', postgres.host, '-p', String(postgres.port), '-u', postgres.user];
  for (const [db, dir] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    await run(TEMPORAL_SQL_TOOL, [...base, '--db', db, 'create-database']);
    await run(TEMPORAL_SQL_TOOL, [...base, '--db', db, 'setup-schema', '-v', '0.0']);
    await run(TEMPORAL_SQL_TOOL, [
      ...base,
      '--db',
      db,
      'update-schema',
      '-d',
      path.join(TEMPORAL_SCHEMA_DIR, dir, 'versioned'),
    ]);
  }
}

/**
 * Free loopback ports below 32768: the cluster-membership table stores ports as SMALLINT, so the
 * kernel's ephemeral ports (what `listen(0)` hands out) do not fit.
 */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!ports.has(port) && (await isFree(port))) ports.add(port);
  }
  return [...ports];
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function writeServerConfig(
  dir: string,
  postgres: RunningPostgres,
  certs: ClusterCertificates,
  ports: number[],
): string {
  const [
    frontend,
    frontendMembership,
    frontendHttp,
    history,
    historyMembership,
    matching,
    matchingMembership,
    worker,
    workerMembership,
    metrics,
  ] = ports;
  const datastore = (db: string, maxConns: number) => `
      sql:
        pluginName: postgres12
        databaseName: ${db}
        connectAddr: "${postgres.host}:${postgres.port}"
        connectProtocol: tcp
        user: ${postgres.user}
        password: ""
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const service = (grpc: number, membership: number, extra = '') => `
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${extra}`;
  const dynamicConfig = path.join(dir, 'dynamicconfig.yaml');
  // Search attributes added by `init` are visible to the next request instead of after a cache refresh.
  // Eager activity execution, as every dev server of the project runs (src/infra/temporal-dev-server.ts).
  fs.writeFileSync(
    dynamicConfig,
    'system.forceSearchAttributesCacheRefreshOnRead:\n  - value: true\n' +
      'system.enableActivityEagerExecution:\n  - value: true\n',
  );
  const yaml = `log:
  stdout: true
  level: warn
  format: json
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:${datastore('temporal', 20)}
    postgres-visibility:${datastore('temporal_visibility', 10)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "127.0.0.1:${metrics}"
  tls:
    frontend:
      server:
        certFile: ${certs.serverCert}
        keyFile: ${certs.serverKey}
        requireClientAuth: true
        clientCaFiles:
          - ${certs.ca}
      client:
        serverName: localhost
        rootCaFiles:
          - ${certs.ca}
    systemWorker:
      certFile: ${certs.serverCert}
      keyFile: ${certs.serverKey}
      client:
        serverName: localhost
        rootCaFiles:
          - ${certs.ca}
services:
  frontend:${service(frontend!, frontendMembership!, `\n      httpPort: ${frontendHttp}`)}
  history:${service(history!, historyMembership!)}
  matching:${service(matching!, matchingMembership!)}
  worker:${service(worker!, workerMembership!)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:${frontend}"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${dynamicConfig}
  pollInterval: 10s
`;
  const file = path.join(dir, 'temporal-server.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}

/** The frontend answers over mTLS once every service has joined; the port opens earlier. */
async function waitForFrontend(address: string, certs: ClusterCertificates, proc: ManagedProcess): Promise<void> {
  const port = Number(address.split(':')[1]);
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    await waitForPort('127.0.0.1', port, START_TIMEOUT_MS, () => proc.alive);
  } catch (err) {
    throw new Error(
      `temporal-server did not listen on ${address}: ${(err as Error).message}; see temporal-server.log.`,
      { cause: err },
    );
  }
  const tls = { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey, serverName: 'localhost' };
  let last: unknown;
  while (Date.now() < deadline && proc.alive) {
    try {
      const connection = await Connection.connect({
        ...temporalConnectionOptions({ address, tls }),
        connectTimeout: 5000,
      });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(
    `temporal-server at ${address} did not answer over mTLS: ${(last as Error)?.message ?? 'it exited'}.`,
  );
}
