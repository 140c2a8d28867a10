// Runs one Codex turn: on a thread of a pooled, long-lived `codex app-server` (appServers > 0), or
// in a fresh one spawned for the turn. Starts or resumes the thread, starts the turn, answers server
// requests, collects items until turn/completed, and leaves no process of the turn behind. Knows
// nothing about Temporal (see run-codex-turn.ts for the activity).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../../src/config';
import { checkCwd, CwdPolicyError } from '../../src/cwd-policy';
import { PROJECT_ROOT } from '../../src/infra/tool-paths';
import { AppServerExitedError, AppServerRequestError, AppServerSpawnError, stderrSummary } from './app-server-client';
import type { HandledServerRequest, ServerNotification, ServerRequest } from './app-server-methods';
import { AppServerPool } from './app-server-pool';
import { assertExecutable, bundledCodexBinary } from './codex-binary';
import { CodexRunError } from './errors';
import {
  describeAnswer,
  describeRequest,
  isHandledServerRequest,
  policyAnswer,
  protocolAnswer,
  questionOptions,
  requestKind,
  summarizeRequest,
} from './server-requests';
import { abortable } from './abortable';
import { TurnDeadline } from './turn-deadline';
import { PooledTurnHost, SpawnedTurnHost, type TurnHost, type ThreadSettings } from './turn-host';
import { steerReplies } from './turn-steering';
import { eventOf, type TurnEventDraft } from './turn-events';
import { TurnRecorder } from './turn-recorder';
import type { CodexRequest, RequestAnswer } from '../../src/contract/task';
import type { TurnReplies } from '../reply-relay';
import { oneLine } from '../../src/contract/text';
import type {
  CodexHeartbeat,
  CodexTurnInput,
  CodexTurnResult,
  CodexTurnStatus,
  RequestRecord,
} from '../../src/contract/codex-turn';

export interface CodexRunnerOptions {
  /** The codex binary (CODEX_BIN). Default: the @openai/codex dependency's native binary. */
  bin?: string;
  /** CODEX_HOME for the app-server (sessions, config.toml, auth). Default: inherited. */
  codexHome?: string;
  /** Extra `-c key=value` overrides (CODEX_BRIDGE_CODEX_CONFIG). */
  configOverrides?: string[];
  /** CODEX_BRIDGE_ALLOWED_ROOTS; empty: any directory. */
  allowedRoots?: string[];
  /** Base environment of the app-server. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** How long an interrupted turn may take to report `interrupted`. Default 2000 ms. */
  interruptGraceMs?: number;
  /** Each step of closing the process (EOF, SIGTERM, SIGKILL) waits this long. Default 2000 ms. */
  killGraceMs?: number;
  /** Longest command output kept per command in a result. Default 4000 characters. */
  outputLimit?: number;
  /**
   * Long-lived app-servers shared by all turns (CODEX_BRIDGE_APP_SERVERS). 0 or unset: every
   * turn spawns its own app-server and ends it afterwards.
   */
  appServers?: number;
}

export interface RunTurnHooks {
  /** Aborting interrupts the turn (and ends its process, unless pooled); the result is `interrupted`. */
  signal?: AbortSignal;
  onProgress?(heartbeat: CodexHeartbeat): void;
  /** The pid of the app-server the turn runs on (spawned for it, or the pooled one it got). */
  onSpawn?(pid: number): void;
  /**
   * Answers approvals and questions (a person, through the workflow). Without it the input's
   * serverRequestPolicy answers. `signal` aborts when the turn ends before an answer came.
   */
  onServerRequest?(request: CodexRequest, signal: AbortSignal): Promise<RequestAnswer>;
  /**
   * The activity attempt (default 1). Request ids of later attempts say so: a retried turn may ask
   * different things in the same order, and an answer must never land on another question.
   */
  attempt?: number;
  /**
   * The turn's process tag (CODEX_BRIDGE_PROCESS_TAG, inherited by everything the turn starts: the
   * whole app-server when spawned for the turn, the thread's commands when pooled). Default: a
   * random one. The activity derives it from the attempt, so a later attempt can find what a
   * crashed one started even when the crashed worker's last heartbeats never left it.
   */
  processTag?: string;
  /** Replies sent while the turn runs: each is steered into the turn, or handed back. */
  replies?: TurnReplies;
  /** What the turn is doing, one event at a time (items, plan, tokens, steered replies, the end). */
  onEvent?(event: TurnEventDraft): void;
}

/**
 * Flags every app-server gets. Without `unbounded_connection_retries` disabled a model URL that
 * refuses connections is retried forever. `shell_snapshot` would run the worker account's login
 * shell (.profile, .bashrc) at every start, with its side effects and stray background jobs
 * (measured: `pyenv rehash &` outliving the app-server); commands still get a login shell when the
 * model asks for one. The rest keeps the model the only outbound connection.
 */
export const APP_SERVER_FLAGS: readonly string[] = [
  '--disable',
  'unbounded_connection_retries',
  '--disable',
  'shell_snapshot',
  '--disable',
  'plugins',
  '--disable',
  'apps',
  '-c',
  'analytics.enabled=false',
  '-c',
  'feedback.enabled=false',
  '-c',
  'check_for_update_on_startup=false',
  '-c',
  'web_search="disabled"',
];

const CLIENT_INFO = { name: 'codex-bridge', title: 'codex-bridge', version: packageVersion() };

export class CodexRunner {
  private pool: AppServerPool | undefined;

  constructor(readonly options: CodexRunnerOptions = {}) {}

  /** The runner the worker builds from the validated configuration. */
  static fromConfig(codex: Config['codex']): CodexRunner {
    return new CodexRunner({
      bin: codex.bin,
      codexHome: codex.home,
      configOverrides: codex.configOverrides,
      allowedRoots: codex.allowedRoots,
      appServers: codex.appServers,
    });
  }

  /** The shared app-servers (created on first use), or null when every turn spawns its own. */
  appServerPool(): AppServerPool | null {
    if (!this.options.appServers) return null;
    if (!this.pool) {
      const command = this.appServerCommand();
      assertExecutable(command.bin);
      this.pool = new AppServerPool({
        size: this.options.appServers,
        command,
        clientInfo: CLIENT_INFO,
        killGraceMs: this.options.killGraceMs,
      });
    }
    return this.pool;
  }

  /** Starts the pooled app-servers ahead of the first turn (no-op without a pool). */
  async warm(): Promise<void> {
    await this.appServerPool()?.warm();
  }

  /** Ends the pooled app-servers and everything they started. */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  /** What runTurn spawns (also used by the overhead benchmark, for a like-for-like baseline). */
  appServerCommand(): { bin: string; args: string[]; env: NodeJS.ProcessEnv } {
    const bin = this.options.bin ?? bundledCodexBinary();
    const args = [
      'app-server',
      ...APP_SERVER_FLAGS,
      ...(this.options.configOverrides ?? []).flatMap((kv) => ['-c', kv]),
    ];
    const env = { ...(this.options.env ?? process.env) };
    if (this.options.codexHome !== undefined) env.CODEX_HOME = this.options.codexHome;
    return { bin, args, env };
  }

  /**
   * Runs one turn. Model failures, timeouts and cancellation are results (`failed`, `timed_out`,
   * `interrupted`); CodexRunError is thrown for what a person must fix and for app-server crashes.
   * The app-server process is gone before the returned promise settles, whatever happens.
   */
  async runTurn(input: CodexTurnInput, hooks: RunTurnHooks = {}): Promise<CodexTurnResult> {
    const startedAt = Date.now();
    const cwd = this.resolveCwd(input.cwd);
    const pool = this.appServerPool();
    const command = this.appServerCommand();
    assertExecutable(command.bin);
    if (hooks.signal?.aborted) return emptyResult('interrupted', input, startedAt);

    const recorder = new TurnRecorder({ outputLimit: this.options.outputLimit ?? 4000 });
    const requests: RequestRecord[] = [];
    const turnOver = new AbortController();
    let stopReason: 'timeout' | 'cancel' | null = null;
    let wakeStop!: () => void;
    const stopped = new Promise<'stopped'>((resolve) => (wakeStop = () => resolve('stopped')));
    const stop = (reason: 'timeout' | 'cancel') => {
      stopReason ??= reason;
      wakeStop();
    };
    let resolveOutcome!: () => void;
    const outcomeSeen = new Promise<'outcome'>((resolve) => (resolveOutcome = () => resolve('outcome')));

    const host: TurnHost = pool
      ? new PooledTurnHost(pool, input.threadId, hooks.processTag)
      : new SpawnedTurnHost({
          ...command,
          cwd,
          processTag: hooks.processTag,
          clientInfo: CLIENT_INFO,
          killGraceMs: this.options.killGraceMs ?? 2000,
        });
    const deadline = new TurnDeadline(input.timeoutMs, () => stop('timeout'));
    const onAbort = () => stop('cancel');
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    const pid = host.pid;
    const report = () => {
      try {
        hooks.onProgress?.({
          pid,
          processTag: host.processTag,
          threadId: recorder.threadId,
          turnId: recorder.turnId,
          ...recorder.progress(),
        });
      } catch {
        // Progress is best effort: a failing heartbeat must not end the turn.
      }
    };

    const emit = (event: TurnEventDraft | null) => {
      try {
        if (event) hooks.onEvent?.(event);
      } catch {
        // Progress is best effort.
      }
    };
    host.onNotification((notification: ServerNotification) => {
      recorder.observe(notification);
      emit(eventOf(notification, recorder.threadId, recorder.turnId));
      if (recorder.outcome) resolveOutcome();
      if (notification.method.startsWith('item/') || notification.method.startsWith('turn/')) report();
    });
    let requestCount = 0;
    host.handleServerRequests(async (request: ServerRequest) => {
      if (!isHandledServerRequest(request)) throw new Error(`codex-bridge does not handle ${request.method}`);
      const asked: CodexRequest = {
        request_id: `${input.taskId}-t${input.turn}${(hooks.attempt ?? 1) > 1 ? `-a${hooks.attempt}` : ''}-r${++requestCount}`,
        kind: requestKind(request),
        summary: summarizeRequest(request, (id) => recorder.startedItem(id)),
        details: describeRequest(request, (id) => recorder.startedItem(id)),
        attempt: hooks.attempt ?? 1,
      };
      const options = questionOptions(request);
      if (options.length > 0) asked.options = options;
      const record: RequestRecord = {
        request_id: asked.request_id,
        kind: asked.kind,
        summary: asked.summary,
        answer: 'none',
        answered_by: 'none',
      };
      requests.push(record);
      report();
      const answer = await this.askFor(asked, request, input, hooks, deadline, turnOver.signal);
      record.answer = describeAnswer(answer);
      record.answered_by = answer.answered_by;
      return protocolAnswer(request, answer);
    });

    // Replies are taken until the turn is over; one being steered then is settled before the result.
    const stopTaking = new AbortController();
    let steering: Promise<void> = Promise.resolve();
    const startSteering = () => {
      if (!hooks.replies || recorder.threadId === null || recorder.turnId === null) return;
      const target = {
        threadId: recorder.threadId,
        turnId: recorder.turnId,
        isOver: () => recorder.outcome !== null || stopReason !== null,
      };
      const onSteered = (prompt: string) => emit({ kind: 'reply_steered', text: `reply: ${oneLine(prompt, 200)}` });
      steering = steerReplies(host, { ...target, onSteered }, hooks.replies, stopTaking.signal);
    };
    let stuck = false;
    try {
      if (pid !== null) hooks.onSpawn?.(pid);
      report();
      const settings: ThreadSettings = {
        cwd,
        approvalPolicy: input.approvalPolicy,
        sandbox: input.sandbox,
        ...(input.model ? { model: input.model } : {}),
      };
      const conversation = this.converse(host, recorder, input, settings, outcomeSeen, report, () => {
        report();
        startSteering();
      });
      conversation.catch(() => undefined); // its failure is read below, or irrelevant once stopped
      const ended = host.ended.then((err) => Promise.reject(err));
      ended.catch(() => undefined);
      try {
        await Promise.race([conversation, stopped, ended]);
      } catch (err) {
        if (!stopReason) throw this.translate(err, host, input, recorder);
      }
      if (stopReason && !recorder.outcome) stuck = !(await this.interrupt(host, recorder, outcomeSeen));
      stopTaking.abort();
      await Promise.race([steering, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
      return {
        status: finalStatus(recorder, stopReason),
        ...recorder.result(),
        durationMs: Date.now() - startedAt,
        requests,
      };
    } finally {
      stopTaking.abort();
      turnOver.abort();
      deadline.cancel();
      hooks.signal?.removeEventListener('abort', onAbort);
      await host.finish({
        settled: recorder.outcome !== null || host.isEnded,
        stuck,
        ranCommands: recorder.result().commands.length > 0,
      });
    }
  }

  private async converse(
    host: TurnHost,
    recorder: TurnRecorder,
    input: CodexTurnInput,
    settings: ThreadSettings,
    outcomeSeen: Promise<'outcome'>,
    report: () => void,
    turnStarted: () => void,
  ): Promise<'outcome'> {
    const threadId = await host.openThread(input.threadId, settings);
    recorder.threadId = threadId;
    report();
    const { turn } = await host.request('turn/start', {
      threadId,
      input: [{ type: 'text', text: input.prompt, text_elements: [] }],
    });
    recorder.begin(threadId, turn.id);
    if (recorder.outcome) return 'outcome';
    turnStarted();
    return outcomeSeen;
  }

  /**
   * turn/interrupt on this turn's thread only, then a short wait for the app-server to report the
   * turn `interrupted`. False when it did not within the grace period.
   */
  private async interrupt(host: TurnHost, recorder: TurnRecorder, outcomeSeen: Promise<'outcome'>): Promise<boolean> {
    if (host.isEnded || recorder.threadId === null || recorder.turnId === null) return true;
    const sent = host
      .request('turn/interrupt', { threadId: recorder.threadId, turnId: recorder.turnId })
      .catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'grace'>(
      (resolve) => (timer = setTimeout(() => resolve('grace'), this.options.interruptGraceMs ?? 2000)),
    );
    const how = await Promise.race([Promise.all([sent, outcomeSeen]), host.ended, grace]);
    clearTimeout(timer);
    return how !== 'grace';
  }

  private async askFor(
    asked: CodexRequest,
    request: HandledServerRequest,
    input: CodexTurnInput,
    hooks: RunTurnHooks,
    deadline: TurnDeadline,
    turnOver: AbortSignal,
  ): Promise<RequestAnswer> {
    if (!hooks.onServerRequest) return policyAnswer(input.serverRequestPolicy, request);
    const resume = deadline.pause();
    try {
      return await abortable(hooks.onServerRequest(asked, turnOver), turnOver);
    } catch (err) {
      if (turnOver.aborted) throw err;
      // The hook failed (not the person): the safe answer keeps the turn going.
      return policyAnswer('decline', request);
    } finally {
      resume();
    }
  }

  private resolveCwd(cwd: string): string {
    try {
      return checkCwd(cwd, this.options.allowedRoots ?? []);
    } catch (err) {
      if (err instanceof CwdPolicyError)
        throw new CodexRunError(err.problem === 'missing' ? 'CwdMissing' : 'CwdNotAllowed', err.message);
      throw err;
    }
  }

  /** The error runTurn throws when the conversation broke before the turn ended. */
  private translate(err: unknown, host: TurnHost, input: CodexTurnInput, recorder: TurnRecorder): Error {
    if (err instanceof AppServerSpawnError) {
      return new CodexRunError(
        'CodexBinaryMissing',
        `The Codex binary ${host.bin} could not be started (${err.errno ?? err.message}): set CODEX_BIN to a working codex binary.`,
        { cause: err },
      );
    }
    if (
      err instanceof AppServerRequestError &&
      err.method.startsWith('thread/') &&
      /failed to load configuration/i.test(err.serverMessage)
    ) {
      return new CodexRunError(
        'InvalidCodexConfig',
        `Codex rejected its configuration (${err.serverMessage}): fix CODEX_BRIDGE_CODEX_CONFIG, the task's model or CODEX_HOME/config.toml.`,
        { cause: err },
      );
    }
    if (
      err instanceof AppServerRequestError &&
      err.method === 'thread/resume' &&
      /no rollout found/i.test(err.serverMessage)
    ) {
      return new CodexRunError(
        'CodexThreadNotFound',
        `Codex has no thread ${input.threadId} to continue in this CODEX_HOME (${err.serverMessage}): start a new task instead of replying.`,
        { cause: err },
      );
    }
    if (err instanceof AppServerExitedError && recorder.threadId === null && /^Error: /m.test(err.stderrTail)) {
      return new CodexRunError(
        'InvalidCodexConfig',
        `codex app-server refused to start (${stderrSummary(err.stderrTail)}): fix CODEX_BRIDGE_CODEX_CONFIG or CODEX_HOME/config.toml.`,
        { cause: err },
      );
    }
    const message = err instanceof Error ? err.message : String(err);
    return new CodexRunError(
      'CodexAppServerFailed',
      `The Codex app-server failed${recorder.turnId ? ' mid-turn' : ' before the turn started'}: ${message}`,
      { cause: err },
    );
  }
}

function finalStatus(recorder: TurnRecorder, stopReason: 'timeout' | 'cancel' | null): CodexTurnStatus {
  const seen = recorder.outcome?.status;
  if (seen === 'completed' || seen === 'failed') return seen;
  if (stopReason === 'timeout') return 'timed_out';
  return 'interrupted';
}

function emptyResult(status: CodexTurnStatus, input: CodexTurnInput, startedAt: number): CodexTurnResult {
  return {
    status,
    finalMessage: null,
    threadId: input.threadId,
    turnId: null,
    usage: null,
    commands: [],
    fileChanges: [],
    diff: null,
    durationMs: Date.now() - startedAt,
    error: null,
    requests: [],
  };
}

function packageVersion(): string {
  try {
    return (
      (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ??
      '0.0.0'
    );
  } catch {
    return '0.0.0';
  }
}
