// Builds a turn's result from the app-server's notifications. `item/completed` is authoritative
// (`turn/completed.turn.items` is only a summary); items still open when the turn ends (an
// interrupt while an approval was pending) are reported as aborted.
import type { CommandRecord, FileChangeRecord, TokenUsage } from '../../src/contract/task';
import type {
  CodexErrorInfo,
  ServerNotification,
  ThreadItem,
  TokenUsageBreakdown,
  TurnError,
} from './app-server-methods';
import type { CodexTurnResult } from '../../src/contract/codex-turn';

export interface TurnRecorderOptions {
  /** Longest command output kept in a result (head and tail, with a marker between). */
  outputLimit: number;
}

type TurnOutcome = 'completed' | 'failed' | 'interrupted';

export class TurnRecorder {
  threadId: string | null = null;
  turnId: string | null = null;
  outcome: { status: TurnOutcome; error: TurnError | null } | null = null;
  private readonly started = new Map<string, ThreadItem>();
  private readonly completed = new Map<string, ThreadItem>();
  private readonly order: string[] = [];
  private currentItem: ThreadItem | null = null;
  private usageBefore: TokenUsageBreakdown | null = null;
  private usageAfter: TokenUsageBreakdown | null = null;
  private diff: string | null = null;
  private lastError: TurnError | null = null;
  private backlog: ServerNotification[] = [];

  constructor(private readonly options: TurnRecorderOptions) {}

  /**
   * Names the thread and turn, once turn/start has answered, and replays what arrived before:
   * the notifications after a reply can be processed before the reply's promise continuation runs.
   */
  begin(threadId: string, turnId: string): void {
    this.threadId = threadId;
    this.turnId = turnId;
    const backlog = this.backlog;
    this.backlog = [];
    for (const notification of backlog) this.observe(notification);
  }

  /** Feeds one notification; ignores other threads (sub-agents) and other turns. */
  observe(notification: ServerNotification): void {
    if (this.turnId === null) {
      this.backlog.push(notification);
      return;
    }
    const params = notification.params as { threadId?: string };
    if (params.threadId !== undefined && params.threadId !== this.threadId) return;
    switch (notification.method) {
      case 'thread/tokenUsage/updated':
        // On resume the app-server replays the thread's total under the previous turn's id: that is "before".
        if (this.isOurs(notification.params.turnId)) this.usageAfter = notification.params.tokenUsage.total;
        else this.usageBefore = notification.params.tokenUsage.total;
        return;
      case 'item/started':
        if (!this.isOurs(notification.params.turnId)) return;
        this.track(notification.params.item);
        this.started.set(notification.params.item.id, notification.params.item);
        this.currentItem = notification.params.item;
        return;
      case 'item/completed':
        if (!this.isOurs(notification.params.turnId)) return;
        this.track(notification.params.item);
        this.completed.set(notification.params.item.id, notification.params.item);
        if (this.currentItem?.id === notification.params.item.id) this.currentItem = null;
        return;
      case 'turn/diff/updated':
        if (this.isOurs(notification.params.turnId)) this.diff = notification.params.diff;
        return;
      case 'error':
        if (this.isOurs(notification.params.turnId) && !notification.params.willRetry)
          this.lastError = notification.params.error;
        return;
      case 'turn/completed': {
        const turn = notification.params.turn;
        if (turn.id !== this.turnId) return;
        const status = turn.status === 'inProgress' ? 'failed' : turn.status;
        this.outcome = { status, error: turn.error ?? (status === 'failed' ? this.lastError : null) };
        return;
      }
      default:
        return;
    }
  }

  startedItem(id: string): ThreadItem | undefined {
    return this.started.get(id);
  }

  progress(): { itemsStarted: number; itemsCompleted: number; currentItem: string | null } {
    return {
      itemsStarted: this.started.size,
      itemsCompleted: this.completed.size,
      currentItem: this.currentItem ? describeItem(this.currentItem) : null,
    };
  }

  /** The result parts that come from the notifications seen so far. */
  result(): Pick<
    CodexTurnResult,
    'finalMessage' | 'threadId' | 'turnId' | 'usage' | 'commands' | 'fileChanges' | 'diff' | 'error'
  > {
    const items = this.order.map((id) => this.completed.get(id) ?? this.started.get(id)!);
    const messages = items.filter(
      (i): i is Extract<ThreadItem, { type: 'agentMessage' }> => i.type === 'agentMessage' && this.completed.has(i.id),
    );
    const final = [...messages].reverse().find((m) => m.phase === 'final_answer') ?? messages[messages.length - 1];
    const commands: CommandRecord[] = [];
    const fileChanges: FileChangeRecord[] = [];
    for (const item of items) {
      const open = !this.completed.has(item.id);
      if (item.type === 'commandExecution') {
        commands.push({
          command: item.command,
          exit_code: item.exitCode,
          status: open ? 'aborted' : item.status,
          output: truncateMiddle(item.aggregatedOutput ?? '', this.options.outputLimit),
          duration_ms: item.durationMs,
        });
      } else if (item.type === 'fileChange' && !open && item.status === 'completed') {
        for (const change of item.changes)
          fileChanges.push({ path: change.path, kind: change.kind.type, diff: change.diff });
      }
    }
    const error = this.outcome?.status === 'failed' ? (this.outcome.error ?? this.lastError) : null;
    return {
      finalMessage: final?.text ?? null,
      threadId: this.threadId,
      turnId: this.turnId,
      usage: this.usageAfter ? usageDifference(this.usageAfter, this.usageBefore) : null,
      commands,
      fileChanges,
      diff: this.diff,
      error: error ? { type: errorType(error.codexErrorInfo), message: readableMessage(error) } : null,
    };
  }

  private isOurs(turnId: string): boolean {
    return turnId === this.turnId;
  }

  private track(item: ThreadItem): void {
    if (!this.started.has(item.id) && !this.completed.has(item.id)) this.order.push(item.id);
  }
}

function usageDifference(after: TokenUsageBreakdown, before: TokenUsageBreakdown | null): TokenUsage {
  const minus = (a: number, b: number | undefined) => Math.max(0, a - (b ?? 0));
  return {
    input_tokens: minus(after.inputTokens, before?.inputTokens),
    cached_input_tokens: minus(after.cachedInputTokens, before?.cachedInputTokens),
    output_tokens: minus(after.outputTokens, before?.outputTokens),
    reasoning_output_tokens: minus(after.reasoningOutputTokens, before?.reasoningOutputTokens),
    total_tokens: minus(after.totalTokens, before?.totalTokens),
  };
}

/** Codex's codexErrorInfo as a type name: `badRequest`, `httpConnectionFailed`, `other`… */
function errorType(info: CodexErrorInfo | null): string {
  if (info === null) return 'unknown';
  if (typeof info === 'string') return info;
  return Object.keys(info)[0] ?? 'unknown';
}

// A provider's HTTP error body arrives verbatim (`{"error":{"message":…}}`): show its message.
function readableMessage(error: TurnError): string {
  const text = error.message.trim();
  if (text.startsWith('{')) {
    try {
      const body = JSON.parse(text) as { error?: { message?: unknown }; message?: unknown };
      const inner = body.error?.message ?? body.message;
      if (typeof inner === 'string' && inner.trim() !== '') return inner.trim();
    } catch {
      /* not JSON after all */
    }
  }
  return error.additionalDetails ? `${text} (${error.additionalDetails})` : text;
}

function describeItem(item: ThreadItem): string {
  switch (item.type) {
    case 'commandExecution':
      return `command: ${truncateMiddle(item.command, 120)}`;
    case 'fileChange':
      return `file change: ${item.changes.map((c) => c.path).join(', ')}`;
    default:
      return item.type;
  }
}

/** Keeps the head and the tail (where errors usually are) of a long text. */
export function truncateMiddle(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const keep = Math.max(0, limit - 40);
  const head = Math.ceil(keep / 2);
  const tail = keep - head;
  return `${text.slice(0, head)}\n…[${text.length - keep} characters omitted]…\n${text.slice(text.length - tail)}`;
}
