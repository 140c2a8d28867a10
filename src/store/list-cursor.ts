// The page boundary of `list`: the task last shown, by (created_at, task_id) — the order of the list.
// Opaque to callers; the next page starts right after that task, however many tasks arrived since.
import { TASK_ID_PATTERN } from '../contract/task';

export interface ListCursor {
  created_at: string;
  task_id: string;
}

export function encodeListCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify([cursor.created_at, cursor.task_id])).toString('base64url');
}

/** The cursor, or null when `text` is not one that encodeListCursor made. */
export function decodeListCursor(text: string): ListCursor | null {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(text)) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 2) return null;
    const [createdAt, taskId] = parsed as unknown[];
    if (
      typeof createdAt !== 'string' ||
      Number.isNaN(Date.parse(createdAt)) ||
      typeof taskId !== 'string' ||
      !TASK_ID_PATTERN.test(taskId)
    )
      return null;
    return { created_at: createdAt, task_id: taskId };
  } catch {
    return null;
  }
}
