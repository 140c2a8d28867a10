// Human-readable renderings for the CLI: a task as a block, tasks as a table, the watcher's report.
// --json bypasses all of this and prints the documents as they are.
import type { WatcherReport } from '../client/task-service-types';
import { describeNotifyTarget } from '../contract/notify-target';
import type { TaskDocument } from '../contract/task';
import { oneLine } from '../contract/text';

/** "45s", "3m", "2h", "4d": how long ago `iso` was (future or unparseable times show "-"). */
export function formatAge(iso: string | null | undefined, now: number = Date.now()): string {
  const t = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export const TABLE_HEADERS = ['TASK ID', 'STATUS', 'NOTIFY TARGET', 'NOTIFICATION', 'AGE'] as const;

/** Newest first, as the service returns them; one row per task, columns padded to fit. */
export function formatTaskTable(tasks: TaskDocument[], now: number = Date.now()): string[] {
  if (tasks.length === 0) return ['No tasks.'];
  const rows = tasks.map((t) => [
    t.task_id,
    statusWithPosition(t),
    t.notify_target ? describeNotifyTarget(t.notify_target) : '-',
    t.notification_status ?? '-',
    formatAge(t.created_at, now),
  ]);
  return formatColumns([[...TABLE_HEADERS], ...rows]);
}

/** "queued (2 ahead)" while a task waits for a slot; the bare status otherwise. */
function statusWithPosition(task: TaskDocument): string {
  return task.status === 'queued' && typeof task.queue_position === 'number'
    ? `queued (${task.queue_position} ahead)`
    : task.status;
}

export function formatColumns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** `codex-bridge status`: the facts a person looks for first, then the result or the error. */
export function formatTaskBlock(task: TaskDocument, now: number = Date.now()): string[] {
  const lines: [string, string][] = [
    ['task', task.task_id],
    [
      'status',
      `${statusWithPosition(task)}${task.status === 'waiting_for_quota' && task.resumes_at ? ` (resumes at ${task.resumes_at})` : ''}${task.finished_at ? ` (finished ${formatAge(task.finished_at, now)} ago)` : ''}`,
    ],
    ['created', `${task.created_at} (${formatAge(task.created_at, now)} ago)`],
    ['cwd', task.cwd],
    ['model', task.model ?? '(Codex default)'],
    ['sandbox', `${task.sandbox}, approval policy ${task.approval_policy}`],
    ['notify', notifyLine(task)],
    ['prompt', oneLine(task.prompt, 200)],
  ];
  if (task.turns && task.turns.length > 1) lines.push(['turns', String(task.turns.length)]);
  if (task.branch) {
    const commits = task.worktree?.commits.length ?? 0;
    lines.push([
      'branch',
      `${task.branch} (${commits} commit${commits === 1 ? '' : 's'}${task.worktree && !task.worktree.removed ? `; worktree ${task.worktree.path}` : ''})`,
    ]);
  }
  for (const r of task.pending_requests)
    lines.push(['waiting', `${r.request_id} (${r.kind}): ${oneLine(r.summary, 160)}`]);
  if (task.result) {
    lines.push(['summary', oneLine(task.result.summary, 300)]);
    if (task.result.final_message) lines.push(['answer', oneLine(task.result.final_message, 300)]);
    if (task.result.file_changes.length > 0)
      lines.push(['changed', task.result.file_changes.map((f) => f.path).join(', ')]);
  }
  if (task.error) lines.push(['error', `${task.error.type}: ${oneLine(task.error.message, 300)}`]);
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
}

export function formatWatcherReport(report: WatcherReport): string[] {
  const head = `${report.dry_run ? 'Dry run: ' : ''}scanned ${report.scanned}, sent ${report.sent}, failed ${report.failed}, no target ${report.no_target}, skipped ${report.skipped}.`;
  return [
    head,
    ...report.items.map((i) => {
      const target = i.notify_target ? describeNotifyTarget(i.notify_target) : 'no target';
      const why = i.error ? `: ${oneLine(i.error, 200)}` : '';
      return `  ${i.task_id}  ${i.status}  ${target}  ${i.action}${why}`;
    }),
  ];
}

function notifyLine(task: TaskDocument): string {
  if (!task.notify_target) return `no target${task.notification_status ? ` (${task.notification_status})` : ''}`;
  const target = describeNotifyTarget(task.notify_target);
  const status = task.notification_status ?? 'pending';
  const when = task.notified_at ? ` at ${task.notified_at}` : '';
  const why = task.notification_error ? `: ${oneLine(task.notification_error, 200)}` : '';
  return `${target}, ${status}${when}${why}`;
}

/** Where a reply went: into the running turn, the queue for the next turn, or a new turn. */
export function describeReply(task: TaskDocument, replyId: string): string {
  const queued = task.queued_replies ?? [];
  const at = queued.findIndex((r) => r.reply_id === replyId);
  if (at >= 0)
    return `Reply ${replyId} is queued (${at + 1} of ${queued.length}): Codex gets it as the next turn of ${task.task_id} when the running one ends.`;
  const turn = task.turns.find((t) => t.replies?.some((r) => r.reply_id === replyId));
  const delivered = turn?.replies?.find((r) => r.reply_id === replyId)?.delivered;
  if (turn && delivered === 'steered')
    return `Reply ${replyId} reached Codex inside turn ${turn.turn} of ${task.task_id}, while it ran.`;
  if (turn) return `Reply ${replyId} is turn ${turn.turn} of ${task.task_id}; the task is ${task.status}.`;
  return `Reply ${replyId} starts the next turn of ${task.task_id}; the task is ${task.status}.`;
}
