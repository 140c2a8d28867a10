// What a person reads: one concise summary of a task event, the same for every channel. Channels
// only change its presentation (a Feishu card, a chat line, a JSON body).
//
// Pure and deterministic (no clock, no I/O): a retried activity builds exactly the same message,
// so a channel that compares payloads for the same idempotency key sees no difference.
import type { TaskNotificationView } from '../../src/contract/notification';
import type { PendingRequestKind, TaskStatus } from '../../src/contract/task';
import type { NotificationMessage } from './notifier';
import { redact } from './redact';

export interface BuildMessageOptions {
  /** CODEX_BRIDGE_UI_URL: base of the Temporal Web UI, e.g. http://127.0.0.1:8233. */
  uiUrl?: string;
  /** Temporal namespace for the Web UI link (default "default"). */
  namespace?: string;
}

/** Limits keep every message readable in a chat and below every channel's size cap (Telegram: 4096). */
export const LIMITS = {
  promptHead: 200,
  finalExcerpt: 1500,
  requestSummary: 500,
  requestDetails: 1500,
  errorMessage: 500,
  commandText: 100,
  listedFiles: 5,
  listedFailedCommands: 3,
  text: 3800,
} as const;

const COMPLETION_TITLES: Record<TaskStatus, string> = {
  completed: '✅ Codex task {id} completed',
  failed: '❌ Codex task {id} failed',
  cancelled: '🛑 Codex task {id} cancelled',
  timed_out: '⏱ Codex task {id} timed out',
  // A completion is only sent for a terminal status; these keep the message honest if it is not.
  queued: 'ℹ️ Codex task {id} is queued',
  running: 'ℹ️ Codex task {id} is running',
  waiting_for_input: '❓ Codex task {id} is waiting for input',
  waiting_for_quota: '⏸ Codex task {id} is paused at the usage limit',
};

const REQUEST_TITLES: Record<PendingRequestKind, string> = {
  command_approval: '❓ Codex task {id} asks to run a command',
  file_change_approval: '❓ Codex task {id} asks to change files',
  permissions_approval: '❓ Codex task {id} asks for more permissions',
  user_input: '❓ Codex task {id} has a question for you',
};

const OUTCOME_WORDS: Record<TaskStatus, string> = {
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  timed_out: 'timed out',
  queued: 'queued',
  running: 'running',
  waiting_for_input: 'waiting for input',
  waiting_for_quota: 'paused at the usage limit',
};

/** Builds the one summary every channel sends. All text is redacted, then truncated. */
export function buildNotificationMessage(
  view: TaskNotificationView,
  opts: BuildMessageOptions = {},
): NotificationMessage {
  const url = opts.uiUrl ? webUiUrl(opts.uiUrl, opts.namespace ?? 'default', view.task_id) : null;
  const built =
    view.kind === 'completion'
      ? completion(view)
      : view.kind === 'request'
        ? request(view)
        : view.kind === 'quota_paused'
          ? quotaPaused(view)
          : view.kind === 'queued'
            ? queued(view)
            : requestExpired(view);
  const turnSuffix = view.turn > 1 ? ` (turn ${view.turn})` : '';
  return {
    kind: view.kind,
    taskId: view.task_id,
    turn: view.turn,
    title: clean(built.title + turnSuffix, 200),
    text: clean(built.text, LIMITS.text),
    fields: built.fields.map((f) => ({ label: f.label, value: clean(f.value, 300) })),
    url,
    status: view.status,
    excerpt: clean(built.excerpt, LIMITS.text),
    ...(view.kind === 'request' && view.request && view.request.kind !== 'user_input'
      ? { approval: { requestId: view.request.request_id } }
      : {}),
    ...(view.kind === 'request' && view.request?.kind === 'user_input' && view.request.options?.length
      ? {
          question: {
            requestId: view.request.request_id,
            options: view.request.options.map((o) => ({ questionId: o.question_id, label: clean(o.label, 100) })),
          },
        }
      : {}),
  };
}

/** Title, text and link as one plain-text message, for channels without fields or buttons. */
export function renderPlainText(message: NotificationMessage): string {
  return [message.title, message.text, message.url ? `Open in Temporal Web UI: ${message.url}` : null]
    .filter((part): part is string => !!part && part.trim() !== '')
    .join('\n\n');
}

/** The Temporal Web UI page of a task (its workflow id is the task id). */
export function webUiUrl(uiUrl: string, namespace: string, taskId: string): string {
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(taskId)}`;
}

/**
 * Cuts `text` to `max` characters with a visible marker saying how much was left out. The marker
 * fits inside `max`, so a limit is a real limit.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  // The marker's own length depends on the number it reports; two passes settle it.
  let keep = max;
  for (let i = 0; i < 2; i++) keep = Math.max(0, max - marker(text.length - keep).length);
  return text.slice(0, keep).replace(/\s+$/, '') + marker(text.length - keep);
}

function marker(omitted: number): string {
  return `… [truncated, ${omitted} more characters]`;
}

interface Built {
  title: string;
  /** The full plain-text body: facts, then the excerpt. */
  text: string;
  fields: { label: string; value: string }[];
  /** The body without the facts (what a card shows under its fields). */
  excerpt: string;
}

function completion(view: TaskNotificationView): Built {
  const result = view.result;
  const duration = formatDuration(view.started_at, view.finished_at);
  const commands = result?.commands ?? [];
  const failedCommands = commands.filter((c) => c.status === 'failed' || (c.exit_code !== null && c.exit_code !== 0));
  const files = result?.file_changes ?? [];

  const fields = [
    { label: 'Outcome', value: OUTCOME_WORDS[view.status] },
    { label: 'Task', value: view.task_id },
    ...(duration ? [{ label: 'Duration', value: duration }] : []),
    { label: 'Directory', value: view.cwd },
    {
      label: 'Commands',
      value: commands.length === 0 ? 'none' : `${commands.length} run, ${failedCommands.length} failed`,
    },
    { label: 'Files changed', value: String(files.length) },
  ];

  const facts: string[] = [
    `Prompt: ${promptHead(view.prompt)}`,
    ...(duration ? [`Duration: ${duration}`] : []),
    `Directory: ${view.cwd}`,
    `Commands: ${commands.length === 0 ? 'none' : `${commands.length} run, ${failedCommands.length} failed`}`,
    ...failedCommands
      .slice(0, LIMITS.listedFailedCommands)
      .map(
        (c) =>
          `  ✗ ${oneLine(redact(c.command), LIMITS.commandText)}${c.exit_code !== null ? ` (exit ${c.exit_code})` : ''}`,
      ),
    ...(failedCommands.length > LIMITS.listedFailedCommands
      ? [`  … and ${failedCommands.length - LIMITS.listedFailedCommands} more failed`]
      : []),
    `Files changed: ${files.length === 0 ? 'none' : listFiles(files.map((f) => f.path))}`,
    ...branchFacts(view),
  ];

  const excerpt: string[] = [];
  if (view.error && view.status !== 'completed') {
    excerpt.push(`Error (${view.error.type}): ${truncate(redact(view.error.message), LIMITS.errorMessage)}`);
  }
  const final = result?.final_message?.trim();
  if (final) excerpt.push(`Final message:\n${truncate(redact(final), LIMITS.finalExcerpt)}`);
  else if (view.status === 'completed') excerpt.push('Codex finished without a final message.');

  return {
    title: COMPLETION_TITLES[view.status].replace('{id}', view.task_id),
    text: [facts.join('\n'), ...excerpt].join('\n\n'),
    fields,
    excerpt: excerpt.length > 0 ? excerpt.join('\n\n') : `Prompt: ${promptHead(view.prompt)}`,
  };
}

/** "paused until 14:05 — Codex usage limit": the time in this worker's time zone, as Codex shows it. */
function quotaPaused(view: TaskNotificationView): Built {
  const until = view.resumes_at ? new Date(view.resumes_at) : null;
  const hhmm = until
    ? `${String(until.getHours()).padStart(2, '0')}:${String(until.getMinutes()).padStart(2, '0')}`
    : 'later';
  const reason = view.quota_reason ?? 'Codex usage limit';
  const said = `Codex task ${view.task_id} paused until ${hhmm} — ${reason}. It tries again then by itself; you hear from it again when it ends.`;
  return {
    title: `⏸ Codex task ${view.task_id} paused until ${hhmm} — ${reason}`,
    text: [said, `Prompt: ${promptHead(view.prompt)}\nDirectory: ${view.cwd}`].join('\n\n'),
    fields: [
      { label: 'Task', value: view.task_id },
      { label: 'Paused until', value: until ? until.toISOString() : 'unknown' },
      { label: 'Directory', value: view.cwd },
    ],
    excerpt: said,
  };
}

/** "queued: 2 ahead": sent once, when the turn first has to wait for a slot. */
function queued(view: TaskNotificationView): Built {
  const ahead = view.queue_position ?? 0;
  const said = `Codex task ${view.task_id} is queued: ${ahead} ahead. It starts by itself when a slot frees; you hear from it again when it ends.`;
  return {
    title: `⏳ Codex task ${view.task_id} queued: ${ahead} ahead`,
    text: [said, `Prompt: ${promptHead(view.prompt)}\nDirectory: ${view.cwd}`].join('\n\n'),
    fields: [
      { label: 'Task', value: view.task_id },
      { label: 'Queued', value: `${ahead} ahead` },
      { label: 'Directory', value: view.cwd },
    ],
    excerpt: said,
  };
}

/** A worktree task: the branch its changes are on, the commits there, and what was left uncommitted. */
function branchFacts(view: TaskNotificationView): string[] {
  if (!view.branch) return [];
  const worktree = view.worktree;
  const commits = worktree?.commits ?? [];
  const lines = [
    `Branch: ${view.branch}${commits.length === 0 ? ' (no changes)' : ` (${commits.length} commit${commits.length === 1 ? '' : 's'})`}`,
  ];
  for (const c of commits.slice(0, LIMITS.listedFailedCommands))
    lines.push(`  ${c.sha.slice(0, 10)} ${oneLine(c.subject, LIMITS.commandText)}`);
  if (commits.length > LIMITS.listedFailedCommands)
    lines.push(`  … and ${commits.length - LIMITS.listedFailedCommands} more`);
  const stat = worktree?.uncommitted_diff_stat?.split('\n').pop()?.trim();
  if (stat) lines.push(`Left uncommitted by Codex, saved on the branch: ${stat}`);
  return lines;
}

function request(view: TaskNotificationView): Built {
  const req = requireRequest(view);
  const details = req.details?.trim() ? truncate(redact(req.details.trim()), LIMITS.requestDetails) : null;
  const asked = [truncate(redact(req.summary.trim()), LIMITS.requestSummary), details]
    .filter((s): s is string => !!s)
    .join('\n\n');
  const answer = howToAnswer(view.task_id, req.request_id, req.kind);
  const fields = [
    { label: 'Task', value: view.task_id },
    { label: 'Request', value: req.request_id },
    { label: 'Kind', value: req.kind.replace(/_/g, ' ') },
    { label: 'Directory', value: view.cwd },
  ];
  return {
    title: REQUEST_TITLES[req.kind].replace('{id}', view.task_id),
    text: [asked, `Prompt: ${promptHead(view.prompt)}\nDirectory: ${view.cwd}`, answer].join('\n\n'),
    fields,
    excerpt: [asked, answer].join('\n\n'),
  };
}

function requestExpired(view: TaskNotificationView): Built {
  const req = requireRequest(view);
  const said = `Request ${req.request_id} (${oneLine(req.summary, 200)}) was not answered in time and was declined; it can no longer be answered.`;
  return {
    title: `⌛ Codex task ${view.task_id}: request expired`,
    text: [said, `Prompt: ${promptHead(view.prompt)}\nDirectory: ${view.cwd}`].join('\n\n'),
    fields: [
      { label: 'Task', value: view.task_id },
      { label: 'Request', value: req.request_id },
      { label: 'Kind', value: req.kind.replace(/_/g, ' ') },
    ],
    excerpt: said,
  };
}

function howToAnswer(taskId: string, requestId: string, kind: PendingRequestKind): string {
  const t = shellQuote(taskId);
  const r = shellQuote(requestId);
  if (kind === 'user_input') {
    return ['To answer:', `  codex-bridge answer ${t} ${r} --answers '{"<question id>": "<your answer>"}'`].join('\n');
  }
  return [
    'To answer:',
    `  codex-bridge approve ${t} ${r} --decision accept`,
    `  codex-bridge approve ${t} ${r} --decision decline`,
    '(also accept_for_session or cancel)',
  ].join('\n');
}

function requireRequest(view: TaskNotificationView): NonNullable<TaskNotificationView['request']> {
  // The workflow always sets it for these kinds; a stand-in keeps the message readable regardless.
  return view.request ?? { request_id: 'unknown', kind: 'user_input', summary: 'a pending request' };
}

function promptHead(prompt: string): string {
  return oneLine(redact(prompt), LIMITS.promptHead);
}

function oneLine(text: string, max: number): string {
  return truncate(text.replace(/\s+/g, ' ').trim(), max);
}

function listFiles(paths: string[]): string {
  const shown = paths.slice(0, LIMITS.listedFiles).map((p) => oneLine(p, 120));
  const more = paths.length - shown.length;
  return `${paths.length} (${shown.join(', ')}${more > 0 ? `, +${more} more` : ''})`;
}

/** "2h 5m", "3m 12s", "12s", "850 ms"; null when either end is unknown or unparsable. */
export function formatDuration(startedAt: string | null, finishedAt: string | null): string | null {
  if (!startedAt || !finishedAt) return null;
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return null;
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

/** Redact first, then truncate: cutting first could leave a key prefix too short to be recognised. */
function clean(text: string, max: number): string {
  return truncate(redact(text), max);
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_.@%+=:,/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
