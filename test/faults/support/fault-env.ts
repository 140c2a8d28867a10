// One fault scenario's world, all of it owned by the test so it can be broken: a Temporal dev server
// on a persistent SQLite file, FerretDB on its own data directory, worker processes (real Codex
// runner against a paced scripted model, real Feishu and Hermes notifiers against the fake Feishu
// and the fake Hermes gateway), and the client service. Servers restart on the same port and files; workers can be SIGKILLed.
// `verifyNothingLost` is the end-of-scenario check every fault test makes.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { feishuUuid } from '../../../activities/notify/feishu-message';
import { TaskService } from '../../../src/client/task-service';
import { defaultAppServers, loadConfig, type Config } from '../../../src/config';
import { completionKey } from '../../../src/contract/idempotency';
import type { TaskDocument } from '../../../src/contract/task';
import { isTerminalStatus } from '../../../src/contract/task';
import { getTaskQuery } from '../../../src/contract/messages';
import { startFerretDb, type RunningStore } from '../../../src/infra/ferretdb-server';
import { freePort } from '../../../src/infra/free-port';
import { ManagedProcess } from '../../../src/infra/managed-process';
import { startTemporalDevServer, type RunningTemporal } from '../../../src/infra/temporal-dev-server';
import { temporalConnectionOptions } from '../../../src/infra/temporal-connection';
import { PROJECT_ROOT } from '../../../src/infra/tool-paths';
import { TaskStore } from '../../../src/store/task-store';
import { makeCodexEnv, processesUsing, type CodexTestEnv } from '../../support/codex-env';
import { startFakeFeishu, type FakeFeishu } from '../../support/fake-feishu';
import { startFakeHermesGateway, type FakeHermesGateway } from '../../support/fake-hermes-gateway';
import { PacedModel, type PacedModelOptions } from '../../support/paced-model';
import { bundleTaskWorkflows } from '../../support/workflow-bundle';

const REGISTER_TS = path.join(__dirname, 'register-ts.js');
const WORKER_MAIN = path.join(__dirname, 'worker-main.ts');

export interface FaultEnvOptions {
  /** How long the scripted model takes per response (a turn lasts about this plus ~0.5 s). */
  model?: PacedModelOptions;
  /** Workflow input: a worker silent this long is presumed dead (short, so retries happen fast). */
  heartbeatTimeoutMs?: number;
  /** Codex turn timeout (CODEX_BRIDGE_TURN_TIMEOUT). */
  turnTimeout?: string;
  /** More worker settings (e.g. HERMES_WEBHOOK_TIMEOUT). */
  env?: NodeJS.ProcessEnv;
  /** A Temporal the test runs itself (its TEMPORAL_* settings, TLS included) instead of a dev server of the scenario's own. */
  temporalEnv?: Record<string, string>;
  /** Namespace the tasks run in (default "default"). */
  namespace?: string;
}

export interface TaskOutcome {
  doc: TaskDocument;
  /** Attempt number of the Codex activity that finally ended the turn (1 = no retry). */
  codexAttempt: number;
  /** Identity of the worker whose Codex attempt ended the turn. */
  codexWorker: string | null;
}

export interface NothingLostReport {
  tasks: number;
  byStatus: Record<string, number>;
  /** The task errors seen ("type: message" → count). */
  errors: Record<string, number>;
  /** Tasks whose Codex turn was retried (the attempt that ended it was > 1). */
  codexRetried: number;
  /** Completion messages in the chats (one per turn expected). */
  messages: number;
  /** Send requests the fakes answered 200: above `messages` when a retry re-sent a message already posted. */
  acceptedSends: number;
  /** Every send request, including the failed ones. */
  sendRequests: number;
  /** Completions the Hermes gateway delivered twice after answering `duplicate` (its documented trade-off). */
  hermesRedelivered: string[];
  outcomes: Map<string, TaskOutcome>;
}

export type Channel = 'feishu' | 'hermes';

let bundlePath: string | undefined;

export class FaultEnv {
  temporal!: RunningTemporal;
  store!: RunningStore;
  readonly workers = new Map<string, ManagedProcess>();
  feishu!: FakeFeishu;
  hermes!: FakeHermesGateway;
  model!: PacedModel;
  codex!: CodexTestEnv;
  config!: Config;
  workerEnv!: NodeJS.ProcessEnv;
  connection!: Connection;
  client!: Client;
  taskStore!: TaskStore;
  service!: TaskService;
  private temporalPort = 0;
  private storePort = 0;
  private workerSeq = 0;

  private constructor(
    readonly name: string,
    readonly scratch: string,
    private readonly options: FaultEnvOptions,
  ) {}

  static async start(name: string, options: FaultEnvOptions = {}): Promise<FaultEnv> {
    const base = process.env.CODEX_BRIDGE_TEST_SCRATCH ?? os.tmpdir();
    const env = new FaultEnv(name, fs.mkdtempSync(path.join(base, `fault-${name}-`)), options);
    try {
      await env.init();
    } catch (err) {
      await env.close();
      throw err;
    }
    return env;
  }

  private async init(): Promise<void> {
    this.temporalPort = await freePort();
    this.storePort = await freePort();
    [this.temporal, this.store, this.feishu, this.hermes, this.model] = await Promise.all([
      this.options.temporalEnv ? this.temporal : this.startTemporal(),
      this.startStore(),
      startFakeFeishu(),
      startFakeHermesGateway(),
      PacedModel.start(this.options.model ?? { delayMs: 500 }),
    ]);
    this.codex = await makeCodexEnv({ modelUrl: this.model.url });
    const queue = `faults-${this.name}-${randomUUID().slice(0, 6)}`;
    this.workerEnv = {
      TEMPORAL_ADDRESS: `127.0.0.1:${this.temporalPort}`,
      TEMPORAL_NAMESPACE: this.options.namespace ?? 'default',
      ...this.options.temporalEnv,
      TEMPORAL_TASK_QUEUE: queue,
      MONGODB_URI: this.store.uri,
      MONGODB_DB: 'codex_bridge_faults',
      CODEX_HOME: this.codex.codexHome,
      CODEX_BRIDGE_CODEX_CONFIG: JSON.stringify(this.codex.configOverrides),
      CODEX_BRIDGE_ALLOWED_ROOTS: this.codex.root,
      CODEX_BRIDGE_TURN_TIMEOUT: this.options.turnTimeout ?? '120s',
      CODEX_BRIDGE_LOCAL_INBOX: path.join(this.scratch, 'inbox.jsonl'),
      CODEX_BRIDGE_LOG_LEVEL: 'warn',
      FEISHU_APP_ID: this.feishu.appId,
      FEISHU_APP_SECRET: this.feishu.appSecret,
      FEISHU_BASE_URL: this.feishu.baseUrl,
      // These suites count each completion by its own uuid; progress cards are tested on their own.
      CODEX_BRIDGE_PROGRESS: 'none',
      HERMES_WEBHOOK_URL: this.hermes.routeUrl(),
      HERMES_WEBHOOK_SECRET: this.hermes.secret,
      FAULT_WORKFLOW_BUNDLE: await workflowBundle(this.scratch),
      // The scenarios run many tasks in one directory at once; the admission scenario turns the queue on.
      CODEX_BRIDGE_ADMISSION: 'off',
      ...this.options.env,
    };
    this.config = loadConfig(this.workerEnv);
    this.connection = await Connection.connect({
      ...temporalConnectionOptions(this.config.temporal),
      connectTimeout: 30_000,
    });
    this.client = new Client({ connection: this.connection, namespace: this.config.temporal.namespace });
    this.taskStore = await TaskStore.connect(this.config.mongo.uri, this.config.mongo.db);
    this.service = new TaskService({
      client: this.client,
      store: this.taskStore,
      config: this.config,
      workflowInput: { heartbeat_timeout_ms: this.options.heartbeatTimeoutMs ?? 5000 },
    });
  }

  // --- servers -------------------------------------------------------------------------------

  async startTemporal(): Promise<RunningTemporal> {
    this.temporal = await startTemporalDevServer({
      port: this.temporalPort,
      uiPort: null,
      dbFile: path.join(this.scratch, 'temporal.db'),
      logFile: path.join(this.scratch, 'temporal.log'),
    });
    return this.temporal;
  }

  async stopTemporal(): Promise<void> {
    await this.temporal.stop();
  }

  async startStore(): Promise<RunningStore> {
    this.store = await startFerretDb({
      port: this.storePort,
      dataDir: path.join(this.scratch, 'store'),
      logFile: path.join(this.scratch, 'ferretdb.log'),
    });
    return this.store;
  }

  async stopStore(): Promise<void> {
    await this.store.stop();
  }

  // --- workers -------------------------------------------------------------------------------

  /** Starts a worker process; `identity` shows in the activity history events. */
  startWorker(identity = `w${++this.workerSeq}`): string {
    const proc = new ManagedProcess({
      name: identity,
      command: process.execPath,
      args: ['-r', REGISTER_TS, WORKER_MAIN],
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...this.workerEnv, FAULT_WORKER_IDENTITY: identity },
      logFile: path.join(this.scratch, `worker-${identity}.log`),
    });
    this.workers.set(identity, proc);
    void proc.exitPromise.then((code) =>
      this.log(`worker ${identity} (pid ${proc.pid}) exited with ${code === null ? 'a signal' : `code ${code}`}`),
    );
    return identity;
  }

  /** SIGKILL: no graceful shutdown, in-flight activities are simply abandoned. */
  async killWorker(identity: string): Promise<void> {
    await this.workers.get(identity)?.kill();
    this.workers.delete(identity);
  }

  // --- tasks ---------------------------------------------------------------------------------

  /** Starts `count` tasks that notify chats oc_<prefix>_<i % chats> on Feishu (or through the Hermes gateway). */
  async startTasks(prefix: string, count: number, chats = 5, channel: Channel = 'feishu'): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(await this.startTask(prefix, i, chats, channel));
    return ids;
  }

  async startTask(prefix: string, i: number, chats = 5, channel: Channel = 'feishu'): Promise<string> {
    const chat = `oc_${prefix}_${i % chats}`;
    const task = await this.service.start({
      task_id: `${prefix}-${i}`,
      prompt: `fault task ${prefix} #${i}: say done`,
      cwd: this.codex.workDir,
      notify_target: channel === 'feishu' ? `feishu:${chat}` : `hermes:telegram:${chat}`,
      sandbox: 'danger-full-access',
      approval_policy: 'never',
    });
    return task.task_id;
  }

  /** Polls until no task's workflow is running; tolerates an unreachable server meanwhile. */
  async waitForTerminal(ids: string[], timeoutMs: number): Promise<void> {
    const pending = new Set(ids);
    const deadline = Date.now() + timeoutMs;
    while (pending.size > 0) {
      for (const id of [...pending]) {
        const status = await this.client.workflow
          .getHandle(id)
          .describe()
          .then((d) => d.status.name)
          .catch(() => 'UNKNOWN');
        if (status !== 'RUNNING' && status !== 'UNKNOWN') pending.delete(id);
      }
      if (pending.size === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${pending.size} of ${ids.length} tasks still running after ${timeoutMs} ms: ${[...pending].slice(0, 10).join(', ')}\n${this.workerLogTails()}`,
        );
      }
      await sleep(1000);
    }
  }

  /** How many of the tasks' workflows are still running (one that cannot be described counts as running). */
  async runningTasks(ids: string[]): Promise<number> {
    let running = 0;
    for (const id of ids) {
      const status = await this.client.workflow
        .getHandle(id)
        .describe()
        .then((d) => d.status.name)
        .catch(() => 'UNKNOWN');
      if (status === 'RUNNING' || status === 'UNKNOWN') running += 1;
    }
    return running;
  }

  /**
   * The invariants of every fault scenario: each workflow completed with a terminal task; each
   * chat got exactly one completion message per turn (by chat and by uuid), and nothing else; the
   * MongoDB mirror equals the workflow's final document. Returns what happened, for the log.
   * `alsoSent` names the idempotency keys of a task's other messages each chat must get exactly
   * once too (e.g. the admission queue's "queued" notice).
   */
  async verifyNothingLost(
    ids: string[],
    alsoSent: (doc: TaskDocument) => string[] = () => [],
  ): Promise<NothingLostReport> {
    const outcomes = new Map<string, TaskOutcome>();
    const expectedByChat: Record<string, number> = {};
    const expectedKeys = new Map<string, string>(); // idempotency key of each turn's completion → task
    for (const id of ids) {
      const handle = this.client.workflow.getHandle(id);
      const description = await handle.describe();
      expect({ id, workflow: description.status.name }).toEqual({ id, workflow: 'COMPLETED' });
      const doc = await handle.result();
      expect({ id, terminal: isTerminalStatus(doc.status), notification: doc.notification_status }).toEqual({
        id,
        terminal: true,
        notification: 'sent',
      });
      // The mirror agrees with Temporal, field for field: with the workflow's result and its query.
      expect(await this.taskStore.get(id)).toEqual(doc);
      if (this.workers.size > 0) expect(await handle.query(getTaskQuery)).toEqual(doc);
      const chat = doc.notify_target!; // feishu:<chat> or hermes:<platform>:<chat>, as the fakes are counted below
      const others = alsoSent(doc);
      expectedByChat[chat] = (expectedByChat[chat] ?? 0) + doc.turns.length + others.length;
      for (const turn of doc.turns) expectedKeys.set(completionKey(id, turn.turn), id);
      for (const key of others) expectedKeys.set(key, id);
      outcomes.set(id, { doc, ...(await codexAttempt(this.client, id)) });
    }

    // What reached the chats: Feishu messages (one per uuid, derived from the key) and Hermes
    // deliveries (the body carries the key), by chat and by key.
    const received: { chat: string; key: string }[] = [];
    const keyOfUuid = new Map([...expectedKeys.keys()].map((k) => [feishuUuid(k), k]));
    for (const m of this.feishu.messages)
      received.push({ chat: `feishu:${m.chatId}`, key: keyOfUuid.get(m.uuid ?? '') ?? `unknown uuid ${m.uuid}` });
    for (const d of this.hermes.deliveries)
      received.push({
        chat: `hermes:${d.platform}:${d.chatId}`,
        key: String(d.body.idempotency_key ?? `unknown request ${d.requestId}`),
      });
    const byKey = new Map<string, number>();
    const byChat: Record<string, number> = {};
    for (const r of received) {
      byKey.set(r.key, (byKey.get(r.key) ?? 0) + 1);
      byChat[r.chat] = (byChat[r.chat] ?? 0) + 1;
    }
    expect([...byKey.keys()].filter((k) => !expectedKeys.has(k))).toEqual([]);
    // The Hermes gateway's one documented second message (activities/notify/README.md): it answered
    // `duplicate` for the key's request (a worker killed after the gateway delivered, before the
    // activity reported it), which proves only that the id was seen, so the bridge sent again under
    // a new id. Any other repeat, and any loss, fails.
    const answeredDuplicate = new Set(
      this.hermes.requests
        .filter((r) => (r.answer as { status?: unknown } | undefined)?.status === 'duplicate')
        .map((r) => String((r.body as { idempotency_key?: unknown } | undefined)?.idempotency_key)),
    );
    const redelivered = [...expectedKeys.keys()].filter((k) => byKey.get(k) === 2 && answeredDuplicate.has(k));
    for (const key of redelivered) {
      byKey.set(key, 1);
      byChat[received.find((r) => r.key === key)!.chat]! -= 1;
    }
    expect([...expectedKeys.keys()].filter((k) => byKey.get(k) !== 1).map((k) => `${k}: ${byKey.get(k) ?? 0}`)).toEqual(
      [],
    );
    expect(byChat).toEqual(expectedByChat);

    const byStatus: Record<string, number> = {};
    const errors: Record<string, number> = {};
    for (const { doc } of outcomes.values()) {
      byStatus[doc.status] = (byStatus[doc.status] ?? 0) + 1;
      if (doc.error)
        errors[`${doc.error.type}: ${doc.error.message}`] =
          (errors[`${doc.error.type}: ${doc.error.message}`] ?? 0) + 1;
    }
    const sends = [...this.feishu.sendRequests(), ...this.hermes.requests];
    return {
      tasks: ids.length,
      byStatus,
      errors,
      codexRetried: [...outcomes.values()].filter((o) => o.codexAttempt > 1).length,
      messages: received.length,
      acceptedSends: sends.filter((r) => r.status === 200).length,
      sendRequests: sends.length,
      hermesRedelivered: redelivered,
      outcomes,
    };
  }

  /** Live `codex app-server` processes of this scenario (orphans of killed workers, if not reaped). */
  appServers(): number[] {
    return processesUsing(this.codex.codexHome).filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('app-server');
      } catch {
        return false;
      }
    });
  }

  /** Live app-servers that worker `identity` spawned (its children: they keep their parent pid until it dies). */
  appServerPidsOf(identity: string): number[] {
    const pid = this.workers.get(identity)?.pid;
    if (pid === undefined) return [];
    return this.appServers().filter((child) => {
      try {
        const stat = fs.readFileSync(`/proc/${child}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    });
  }

  /**
   * Codex turns in flight on worker `identity`, as far as can be seen from outside: with an
   * app-server per turn, its app-servers; with pooled app-servers (alive while idle too), the
   * model's open responses while the worker has any app-server (one worker runs at a time).
   */
  appServersOf(identity: string): number {
    const servers = this.appServerPidsOf(identity).length;
    return this.workerEnv.CODEX_BRIDGE_APP_SERVERS === '0' ? servers : servers > 0 ? this.model.inFlight : 0;
  }

  /** Codex turns that ended (completed or failed), per worker identity, from the workflow histories. */
  async codexTurnsBy(ids: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const id of ids) {
      const { codexWorker } = await codexAttempt(this.client, id).catch(() => ({ codexWorker: null }));
      if (codexWorker) counts.set(codexWorker, (counts.get(codexWorker) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * Tasks keep arriving while the workers run (one every `gapMs`), so workers have turns finishing
   * and starting; `ids` fills as they are started. Await the promise before checking the outcome.
   */
  startArrivals(
    prefix: string,
    count: number,
    gapMs: number,
    ids: string[],
    channelOf: (i: number) => Channel = () => 'feishu',
  ): Promise<void> {
    const arrivals = (async () => {
      for (let i = 0; i < count; i++) {
        ids.push(await this.startTask(prefix, i, 5, channelOf(i)));
        await sleep(gapMs);
      }
    })();
    void arrivals.catch(() => undefined); // awaited by the caller; this only keeps an early failure from going unhandled
    return arrivals;
  }

  /** Waits (bounded) until `identity` has finished turns of its own and holds more in flight: the moment to kill it. */
  async waitUntilMidRun(identity: string, ids: string[], timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const byWorker = await this.codexTurnsBy(ids);
      if ((byWorker.get(identity) ?? 0) >= 1 && this.appServersOf(identity) >= 1) return;
      if (Date.now() > deadline)
        throw new Error(
          `${identity} never had finished and running turns at once: ${JSON.stringify([...byWorker])}\n${this.workerLogTails()}`,
        );
      await sleep(250);
    }
  }

  /**
   * App-servers that should not exist: every one whose worker is gone, and of a live worker every
   * one beyond its pool (with an app-server per turn, all of them once no turn runs).
   */
  leftoverAppServers(): number[] {
    const raw = this.workerEnv.CODEX_BRIDGE_APP_SERVERS;
    const pool = raw === undefined || raw === '' ? defaultAppServers() : Number(raw);
    const pooled = new Set(
      [...this.workers.keys()].flatMap((identity) => this.appServerPidsOf(identity).slice(0, pool)),
    );
    return this.appServers().filter((pid) => !pooled.has(pid));
  }

  /** Waits (bounded) for every app-server of this scenario that should not exist to be gone. */
  async expectNoAppServersLeft(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.leftoverAppServers().length > 0 && Date.now() < deadline) await sleep(250);
    expect(this.leftoverAppServers()).toEqual([]);
  }

  /** The last lines of every worker's log (for a failure message). */
  workerLogTails(lines = 15): string {
    return fs
      .readdirSync(this.scratch)
      .filter((f) => f.startsWith('worker-') && f.endsWith('.log'))
      .map(
        (f) => `--- ${f}\n${fs.readFileSync(path.join(this.scratch, f), 'utf8').split('\n').slice(-lines).join('\n')}`,
      )
      .join('\n');
  }

  log(line: string): void {
    fs.appendFileSync(path.join(this.scratch, 'scenario.log'), `${new Date().toISOString()} ${line}\n`);
    process.stdout.write(`[fault ${this.name}] ${line}\n`);
  }

  /** Stops everything this scenario started, whatever state it is in. */
  async close(): Promise<void> {
    const quietly = async (f: (() => Promise<unknown>) | undefined) => {
      try {
        await f?.();
      } catch {
        /* closing what may already be gone */
      }
    };
    await Promise.all([...this.workers.values()].map((w) => quietly(() => w.kill())));
    this.workers.clear();
    await quietly(this.taskStore && (() => this.taskStore.close()));
    await quietly(this.connection && (() => this.connection.close()));
    await Promise.all([
      quietly(this.temporal && (() => this.temporal.stop())),
      quietly(this.store && (() => this.store.stop())),
      quietly(this.feishu && (() => this.feishu.stop())),
      quietly(this.hermes && (() => this.hermes.stop())),
      quietly(this.model && (() => this.model.close())),
    ]);
    await quietly(this.codex && (() => this.codex.cleanup()));
    if (!process.env.CODEX_BRIDGE_KEEP_TEST_FILES) fs.rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** The Codex activity's final attempt and the worker that ran it, from the workflow history. */
async function codexAttempt(client: Client, id: string): Promise<{ codexAttempt: number; codexWorker: string | null }> {
  const history = await client.workflow.getHandle(id).fetchHistory();
  const events = history.events ?? [];
  const scheduled = new Set<string>();
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'runCodexTurn') scheduled.add(String(e.eventId));
  }
  let result = { codexAttempt: 0, codexWorker: null as string | null };
  for (const e of events) {
    const started = e.activityTaskStartedEventAttributes;
    if (started && scheduled.has(String(started.scheduledEventId)))
      result = { codexAttempt: started.attempt ?? 1, codexWorker: started.identity ?? null };
  }
  return result;
}

/** Bundles the workflow code once per test file and writes it where worker processes can load it. */
async function workflowBundle(dir: string): Promise<string> {
  if (!bundlePath || !fs.existsSync(bundlePath)) {
    const { code } = await bundleTaskWorkflows();
    bundlePath = path.join(dir, 'workflow-bundle.js');
    fs.writeFileSync(bundlePath, code);
  }
  const copy = path.join(dir, 'workflow-bundle.js');
  if (copy !== bundlePath) fs.copyFileSync(bundlePath, copy);
  return copy;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Summarises a report in one line for the test log. */
export function describeReport(report: NothingLostReport): string {
  return (
    `${report.tasks} tasks ${JSON.stringify(report.byStatus)}, ${report.codexRetried} Codex turns retried, ` +
    `${report.messages} messages (${report.acceptedSends} accepted sends, ${report.sendRequests} send requests)` +
    (Object.keys(report.errors).length ? `; errors ${JSON.stringify(report.errors)}` : '') +
    (report.hermesRedelivered.length
      ? `; sent twice after the Hermes gateway answered duplicate: ${report.hermesRedelivered.join(', ')}`
      : '')
  );
}
