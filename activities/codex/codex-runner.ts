// Runs one Codex turn in a fresh `codex app-server`: spawn, initialize, start or resume the thread,
// start the turn, answer server requests, collect items until turn/completed, and always leave no
// process behind. Knows nothing about Temporal (see run-codex-turn.ts for the activity).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../../src/config';
import { checkCwd, CwdPolicyError } from '../../src/cwd-policy';
import { PROJECT_ROOT } from '../../src/infra/tool-paths';
import { AppServerClient, AppServerExitedError, AppServerRequestError, AppServerSpawnError, stderrSummary } from './app-server-client';
import { IGNORED_NOTIFICATIONS, type HandledServerRequest, type ServerNotification, type ServerRequest } from './app-server-methods';
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
import { steerReplies } from './turn-steering';
import { eventOf, type TurnEventDraft } from './turn-events';
import { TurnRecorder } from './turn-recorder';
import type { CodexRequest, RequestAnswer } from '../../src/contract/task';
import type { TurnReplies } from '../reply-relay';
import { oneLine } from '../../src/contract/text';
import type { CodexHeartbeat, CodexTurnInput, CodexTurnResult, CodexTurnStatus, RequestRecord } from '../../src/contract/codex-turn';

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
}

export interface RunTurnHooks {
  /** Aborting interrupts the turn and ends the process; the result is `interrupted`. */
  signal?: AbortSignal;
  onProgress?(heartbeat: CodexHeartbeat): void;
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
   * The app-server's process tag (CODEX_BRIDGE_PROCESS_TAG, inherited by everything it starts).
   * Default: a random one. The activity derives it from the attempt, so a later attempt can find
   * what a crashed one started even when the crashed worker's last heartbeats never left it.
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
  '--disable', 'unbounded_connection_retries',
  '--disable', 'shell_snapshot',
  '--disable', 'plugins',
  '--disable', 'apps',
  '-c', 'analytics.enabled=false',
  '-c', 'feedback.enabled=false',
  '-c', 'check_for_update_on_startup=false',
  '-c', 'web_search="disabled"',
];

const CLIENT_INFO = { name: 'codex-bridge', title: 'codex-bridge', version: packageVersion() };

export class CodexRunner {
  constructor(readonly options: CodexRunnerOptions = {}) {}

  /** The runner the worker builds from the validated configuration. */
  static fromConfig(codex: Config['codex']): CodexRunner {
    return new CodexRunner({ bin: codex.bin, codexHome: codex.home, configOverrides: codex.configOverrides, allowedRoots: codex.allowedRoots });
  }

  /** What runTurn spawns (also used by the overhead benchmark, for a like-for-like baseline). */
  appServerCommand(): { bin: string; args: string[]; env: NodeJS.ProcessEnv } {
    const bin = this.options.bin ?? bundledCodexBinary();
    const args = ['app-server', ...APP_SERVER_FLAGS, ...(this.options.configOverrides ?? []).flatMap((kv) => ['-c', kv])];
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

    const client = new AppServerClient({ bin: command.bin, args: command.args, env: command.env, cwd, processTag: hooks.processTag });
    const deadline = new TurnDeadline(input.timeoutMs, () => stop('timeout'));
    const onAbort = () => stop('cancel');
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    const pid = client.pid ?? null;
    const report = () => {
      try {
        hooks.onProgress?.({ pid, processTag: client.processTag, threadId: recorder.threadId, turnId: recorder.turnId, ...recorder.progress() });
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
    client.onNotification((notification: ServerNotification) => {
      recorder.observe(notification);
      emit(eventOf(notification, recorder.threadId, recorder.turnId));
      if (recorder.outcome) resolveOutcome();
      if (notification.method.startsWith('item/') || notification.method.startsWith('turn/')) report();
    });
    let requestCount = 0;
    client.handleServerRequests(async (request: ServerRequest) => {
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
      const record: RequestRecord = { request_id: asked.request_id, kind: asked.kind, summary: asked.summary, answer: 'none', answered_by: 'none' };
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
      const target = { threadId: recorder.threadId, turnId: recorder.turnId, isOver: () => recorder.outcome !== null || stopReason !== null };
      const onSteered = (prompt: string) => emit({ kind: 'reply_steered', text: `reply: ${oneLine(prompt, 200)}` });
      steering = steerReplies(client, { ...target, onSteered }, hooks.replies, stopTaking.signal);
    };
    try {
      if (pid !== null) hooks.onSpawn?.(pid);
      report();
      const conversation = this.converse(client, recorder, input, cwd, outcomeSeen, report, () => {
        report();
        startSteering();
      });
      conversation.catch(() => undefined); // its failure is read below, or irrelevant once stopped
      const ended = client.ended.then((err) => Promise.reject(err));
      ended.catch(() => undefined);
      try {
        await Promise.race([conversation, stopped, ended]);
      } catch (err) {
        if (!stopReason) throw this.translate(err, client, input, recorder);
      }
      if (stopReason && !recorder.outcome) await this.interrupt(client, recorder, outcomeSeen);
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
      await client.close(this.options.killGraceMs ?? 2000);
    }
  }

  private async converse(
    client: AppServerClient,
    recorder: TurnRecorder,
    input: CodexTurnInput,
    cwd: string,
    outcomeSeen: Promise<'outcome'>,
    report: () => void,
    turnStarted: () => void,
  ): Promise<'outcome'> {
    await client.request('initialize', {
      clientInfo: CLIENT_INFO,
      capabilities: { experimentalApi: false, requestAttestation: false, optOutNotificationMethods: IGNORED_NOTIFICATIONS },
    });
    client.notify('initialized');
    const settings = { cwd, approvalPolicy: input.approvalPolicy, sandbox: input.sandbox, ...(input.model ? { model: input.model } : {}) };
    const { thread } = input.threadId
      ? await client.request('thread/resume', { threadId: input.threadId, excludeTurns: true, ...settings })
      : await client.request('thread/start', settings);
    recorder.threadId = thread.id;
    report();
    const { turn } = await client.request('turn/start', { threadId: thread.id, input: [{ type: 'text', text: input.prompt, text_elements: [] }] });
    recorder.begin(thread.id, turn.id);
    if (recorder.outcome) return 'outcome';
    turnStarted();
    return outcomeSeen;
  }

  /** turn/interrupt, then a short wait for the app-server to report the turn `interrupted`. */
  private async interrupt(client: AppServerClient, recorder: TurnRecorder, outcomeSeen: Promise<'outcome'>): Promise<void> {
    if (client.isEnded || recorder.threadId === null || recorder.turnId === null) return;
    const sent = client.request('turn/interrupt', { threadId: recorder.threadId, turnId: recorder.turnId }).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.interruptGraceMs ?? 2000)));
    await Promise.race([Promise.all([sent, outcomeSeen]), client.ended, grace]);
    clearTimeout(timer);
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
      if (err instanceof CwdPolicyError) throw new CodexRunError(err.problem === 'missing' ? 'CwdMissing' : 'CwdNotAllowed', err.message);
      throw err;
    }
  }

  /** The error runTurn throws when the conversation broke before the turn ended. */
  private translate(err: unknown, client: AppServerClient, input: CodexTurnInput, recorder: TurnRecorder): Error {
    if (err instanceof AppServerSpawnError) {
      return new CodexRunError('CodexBinaryMissing', `The Codex binary ${client.options.bin} could not be started (${err.errno ?? err.message}): set CODEX_BIN to a working codex binary.`, { cause: err });
    }
    if (err instanceof AppServerRequestError && err.method.startsWith('thread/') && /failed to load configuration/i.test(err.serverMessage)) {
      return new CodexRunError('InvalidCodexConfig', `Codex rejected its configuration (${err.serverMessage}): fix CODEX_BRIDGE_CODEX_CONFIG, the task's model or CODEX_HOME/config.toml.`, { cause: err });
    }
    if (err instanceof AppServerRequestError && err.method === 'thread/resume' && /no rollout found/i.test(err.serverMessage)) {
      return new CodexRunError('CodexThreadNotFound', `Codex has no thread ${input.threadId} to continue in this CODEX_HOME (${err.serverMessage}): start a new task instead of replying.`, { cause: err });
    }
    if (err instanceof AppServerExitedError && recorder.threadId === null && /^Error: /m.test(err.stderrTail)) {
      return new CodexRunError('InvalidCodexConfig', `codex app-server refused to start (${stderrSummary(err.stderrTail)}): fix CODEX_BRIDGE_CODEX_CONFIG or CODEX_HOME/config.toml.`, { cause: err });
    }
    const message = err instanceof Error ? err.message : String(err);
    return new CodexRunError('CodexAppServerFailed', `The Codex app-server failed${recorder.turnId ? ' mid-turn' : ' before the turn started'}: ${message}`, { cause: err });
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
    return (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
