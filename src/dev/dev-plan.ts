// Decides, before anything starts, what `codex-bridge dev` will run and where: which servers are
// started here and which the user runs (an explicitly set TEMPORAL_ADDRESS / MONGODB_URI), their
// ports, data files, log files, and the worker and API commands.
import * as path from 'node:path';
import type { Config } from '../config';
import { DATA_DIR, PROJECT_ROOT } from '../infra/tool-paths';
import { WORKER_NODE_FLAGS } from '../worker-memory';
import type { DevOptions } from './dev-options';

export type TemporalPlan =
  | { kind: 'external'; address: string; uiUrl: string | undefined }
  | { kind: 'local'; address: string; port: number; uiPort: number; uiUrl: string; dbFile: string; logFile: string };

export type StorePlan =
  { kind: 'external'; uri: string } | { kind: 'local'; uri: string; port: number; dir: string; logFile: string };

export interface AppPlan {
  command: string[];
  logFile: string;
}

export interface DevPlan {
  dataDir: string;
  logDir: string;
  pidFile: string;
  temporal: TemporalPlan;
  store: StorePlan;
  worker: AppPlan;
  api: AppPlan & { addr: string; host: string; port: number; url: string };
}

export const DEFAULT_UI_PORT = 8233;
const DEFAULT_TEMPORAL_PORT = 7233;
const DEFAULT_STORE_PORT = 27017;
export const CLI_SCRIPT = path.join(PROJECT_ROOT, 'bin', 'codex-bridge.js');

export function planDev(config: Config, options: DevOptions = {}): DevPlan {
  const env = options.env ?? process.env;
  const dataDir = path.resolve(options.dataDir ?? DATA_DIR);
  const logDir = path.join(dataDir, 'logs');

  // "Explicitly set" is read from the environment, not from the config: the config holds the
  // default 127.0.0.1:7233 either way, and only a user-given address means "use my server".
  const temporal: TemporalPlan = isSet(env.TEMPORAL_ADDRESS)
    ? { kind: 'external', address: config.temporal.address, uiUrl: config.uiUrl }
    : localTemporal(config, options, dataDir, logDir);

  const store: StorePlan = isSet(env.MONGODB_URI)
    ? { kind: 'external', uri: config.mongo.uri }
    : localStore(config, options, dataDir, logDir);

  const apiAddr = options.apiAddr ?? config.api.addr;
  const [apiHost, apiPort] = splitHostPort(apiAddr);
  // A wildcard bind is reached through loopback from this machine.
  const apiReachHost = apiHost === '0.0.0.0' ? '127.0.0.1' : apiHost;

  return {
    dataDir,
    logDir,
    pidFile: path.join(dataDir, 'dev.pid'),
    temporal,
    store,
    worker: {
      command: options.workerCommand ?? [process.execPath, ...WORKER_NODE_FLAGS, CLI_SCRIPT, 'worker'],
      logFile: path.join(logDir, 'worker.log'),
    },
    api: {
      command: options.apiCommand ?? [process.execPath, CLI_SCRIPT, 'serve'],
      logFile: path.join(logDir, 'api.log'),
      addr: apiAddr,
      host: apiReachHost,
      port: apiPort,
      url: `http://${apiReachHost}:${apiPort}`,
    },
  };
}

function localTemporal(config: Config, options: DevOptions, dataDir: string, logDir: string): TemporalPlan {
  const port = options.temporalPort ?? loopbackPort(config.temporal.address) ?? DEFAULT_TEMPORAL_PORT;
  const uiPort = options.uiPort ?? DEFAULT_UI_PORT;
  return {
    kind: 'local',
    address: `127.0.0.1:${port}`,
    port,
    uiPort,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    dbFile: path.join(dataDir, 'temporal.sqlite'),
    logFile: path.join(logDir, 'temporal.log'),
  };
}

function localStore(config: Config, options: DevOptions, dataDir: string, logDir: string): StorePlan {
  const m = /^mongodb:\/\/(?:127\.0\.0\.1|localhost)(?::(\d+))?(?:[/?]|$)/.exec(config.mongo.uri);
  const port = options.storePort ?? (m?.[1] ? Number(m[1]) : DEFAULT_STORE_PORT);
  return {
    kind: 'local',
    uri: `mongodb://127.0.0.1:${port}`,
    port,
    dir: path.join(dataDir, 'ferretdb'),
    logFile: path.join(logDir, 'ferretdb.log'),
  };
}

function loopbackPort(address: string): number | undefined {
  const [host, port] = splitHostPort(address);
  return host === '127.0.0.1' || host === 'localhost' ? port : undefined;
}

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}
