// `codex-bridge dev`: everything on this machine — Temporal dev server (+ Web UI, persistent SQLite),
// a MongoDB-wire store (FerretDB on SQLite), the worker and the HTTP API — until Ctrl-C.
import * as fs from 'node:fs';
import type { Config } from '../config';
import { waitForPort } from '../infra/free-port';
import { startFerretDb } from '../infra/ferretdb-server';
import { ManagedProcess } from '../infra/managed-process';
import { startTemporalDevServer } from '../infra/temporal-dev-server';
import { devApiToken } from './api-token';
import { DevError } from './dev-error';
import { CLI_SCRIPT, planDev, type DevPlan } from './dev-plan';
import { PidFile } from './pid-file';
import { assertPortFree } from './port-check';
import { displayPath, formatSummary } from './summary';
import type { DevOptions, DevReady } from './dev-options';
import { Supervisor } from './supervisor';

const APP_GRACE_MS = 10_000; // a worker finishing its activity heartbeats and shutting down
const SERVER_GRACE_MS = 5_000;
const API_START_TIMEOUT_MS = 60_000;

/**
 * Runs until options.signal aborts (resolves) or something fails (rejects with a DevError whose
 * message is one sentence). Every child is stopped before it returns either way.
 */
export type { DevOptions, DevReady };

export async function runDev(config: Config, options: DevOptions = {}): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(line));
  const env = options.env ?? process.env;
  const plan = planDev(config, options);
  if (options.signal?.aborted) return;

  for (const app of [plan.worker, plan.api]) {
    if (app.command.includes(CLI_SCRIPT) && !fs.existsSync(CLI_SCRIPT)) {
      throw new DevError(
        `${displayPath(CLI_SCRIPT)} is missing from this checkout: the worker and the API cannot be started.`,
      );
    }
  }
  fs.mkdirSync(plan.logDir, { recursive: true });
  const pidFile = new PidFile(plan.pidFile);
  await pidFile.claim(log);
  const supervisor = new Supervisor(pidFile, displayPath);
  const onAbort = () => supervisor.requestStop();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await checkPorts(plan);
    const token = devApiToken(config.api.token, plan.dataDir);
    await startServers(plan, config, supervisor, log);
    if (!supervisor.stopping) await startApps(plan, env, token.token, supervisor, log);
    if (!supervisor.stopping) {
      // One write: whoever reads the output (a person, a script waiting for "is up") sees the whole block.
      log(formatSummary(plan, config, token).join('\n'));
      options.onReady?.(readyInfo(plan, supervisor));
    }
    await supervisor.stopRequested;
  } catch (err) {
    // Once a stop was asked for, a start that fails is its consequence, not news.
    if (!supervisor.stopping) supervisor.fail(err as Error);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (!supervisor.empty) log('stopping codex-bridge dev');
    await supervisor.stopAll();
    pidFile.remove();
  }
  if (supervisor.failure) throw asDevError(supervisor.failure);
  if (!supervisor.empty) log('codex-bridge dev stopped');
}

async function checkPorts(plan: DevPlan): Promise<void> {
  const { temporal, store, api } = plan;
  if (temporal.kind === 'local') {
    await assertPortFree('127.0.0.1', temporal.port, 'Temporal', 'stop it or set TEMPORAL_ADDRESS');
    await assertPortFree('127.0.0.1', temporal.uiPort, 'Temporal Web UI', 'stop it or choose another with --ui-port');
  }
  if (store.kind === 'local') await assertPortFree('127.0.0.1', store.port, 'MongoDB', 'stop it or set MONGODB_URI');
  await assertPortFree(
    api.addr.slice(0, api.addr.lastIndexOf(':')),
    api.port,
    'codex-bridge API',
    'stop it or set CODEX_BRIDGE_API_ADDR',
  );
}

// Temporal and the store start side by side: each takes a few seconds and neither needs the other.
async function startServers(
  plan: DevPlan,
  config: Config,
  supervisor: Supervisor,
  log: (line: string) => void,
): Promise<void> {
  const { temporal, store } = plan;
  if (temporal.kind === 'external' && store.kind === 'external') return;
  log(
    `starting ${[temporal.kind === 'local' ? 'the Temporal dev server' : '', store.kind === 'local' ? 'FerretDB' : ''].filter(Boolean).join(' and ')}`,
  );
  const [t, s] = await Promise.allSettled([
    temporal.kind === 'local'
      ? startServer(temporal.logFile, () =>
          startTemporalDevServer({
            port: temporal.port,
            uiPort: temporal.uiPort,
            dbFile: temporal.dbFile,
            logFile: temporal.logFile,
            namespace: config.temporal.namespace,
          }),
        )
      : undefined,
    store.kind === 'local'
      ? startServer(store.logFile, () =>
          startFerretDb({ port: store.port, dataDir: store.dir, logFile: store.logFile }),
        )
      : undefined,
  ]);
  // Register whatever did start before reporting what did not, so that it is stopped too.
  if (t.status === 'fulfilled' && t.value && temporal.kind === 'local') {
    supervisor.add({
      name: 'temporal',
      label: 'the Temporal dev server',
      process: t.value.process,
      logFile: temporal.logFile,
      tier: 'server',
      graceMs: SERVER_GRACE_MS,
    });
  }
  if (s.status === 'fulfilled' && s.value && store.kind === 'local') {
    supervisor.add({
      name: 'ferretdb',
      label: 'FerretDB',
      process: s.value.process,
      logFile: store.logFile,
      tier: 'server',
      graceMs: SERVER_GRACE_MS,
    });
  }
  if (t.status === 'rejected') throw t.reason;
  if (s.status === 'rejected') throw s.reason;
}

/** Marks the log with the start of this run, and turns a start failure into a sentence naming the log. */
async function startServer<T>(logFile: string, start: () => Promise<T>): Promise<T> {
  markLog(logFile);
  try {
    return await start();
  } catch (err) {
    const message = (err as Error).message.replace(/\.?$/, '.');
    throw new DevError(`${message} Its log is ${displayPath(logFile)}.`);
  }
}

async function startApps(
  plan: DevPlan,
  env: NodeJS.ProcessEnv,
  token: string,
  supervisor: Supervisor,
  log: (line: string) => void,
): Promise<void> {
  const { temporal, store, api, worker } = plan;
  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    TEMPORAL_ADDRESS: temporal.address,
    MONGODB_URI: store.uri,
    CODEX_BRIDGE_API_ADDR: api.addr,
    CODEX_BRIDGE_API_TOKEN: token,
    // dev sets the namespace up on its own (a server of yours may lack the search attributes).
    CODEX_BRIDGE_REGISTER_SEARCH_ATTRIBUTES: env.CODEX_BRIDGE_REGISTER_SEARCH_ATTRIBUTES || 'true',
  };
  // Notifications link to the Web UI; the one started here unless the user named another.
  if (temporal.uiUrl !== undefined && !env.CODEX_BRIDGE_UI_URL) childEnv.CODEX_BRIDGE_UI_URL = temporal.uiUrl;

  log('starting the worker and the API');
  for (const [name, label, app] of [
    ['worker', 'the worker', worker],
    ['api', 'the API', api],
  ] as const) {
    markLog(app.logFile);
    const [command, ...args] = app.command;
    const proc = new ManagedProcess({ name, command: command!, args, env: childEnv, logFile: app.logFile });
    supervisor.add({ name, label, process: proc, logFile: app.logFile, tier: 'app', graceMs: APP_GRACE_MS });
  }
  try {
    // Gives up as soon as anything stops the run (the API dying among others).
    await waitForPort(api.host, api.port, API_START_TIMEOUT_MS, () => !supervisor.stopping);
  } catch (err) {
    if (supervisor.stopping) return; // the API (or another child) died: its own sentence says so
    throw new DevError(
      `the API did not listen on ${api.addr}: ${(err as Error).message}; its log is ${displayPath(api.logFile)}.`,
    );
  }
}

function readyInfo(plan: DevPlan, supervisor: Supervisor): DevReady {
  const pid = (name: string) => supervisor.pidOf(name);
  return {
    temporal: { address: plan.temporal.address, uiUrl: plan.temporal.uiUrl, pid: pid('temporal') },
    store: { uri: plan.store.uri, pid: pid('ferretdb') },
    worker: { pid: pid('worker') },
    api: { url: plan.api.url, pid: pid('api') },
    dataDir: plan.dataDir,
  };
}

function markLog(file: string): void {
  fs.appendFileSync(
    file,
    `\n=== codex-bridge dev (launcher pid ${process.pid}) started at ${new Date().toISOString()} ===\n`,
  );
}

function asDevError(err: Error): Error {
  return err instanceof DevError ? err : new DevError(err.message.replace(/\.?$/, '.'));
}
