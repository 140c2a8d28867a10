// Idempotency keys of the messages a task sends: derived from the task, never random, so a retried
// activity and the repair watcher reuse the key and a channel can drop the duplicate.

/** A turn's completion message. */
export function completionKey(taskId: string, turn: number): string {
  return `${taskId}:turn-${turn}:completion`;
}

/** The message asking a person to answer a pending request. */
export function requestKey(taskId: string, requestId: string): string {
  return `${taskId}:request:${requestId}`;
}

/** The message saying a pending request expired and was declined. */
export function requestExpiredKey(taskId: string, requestId: string): string {
  return `${taskId}:request-expired:${requestId}`;
}

/** The one message saying a turn waits in the admission queue (later position changes are not told). */
export function queuedKey(taskId: string, turn: number): string {
  return `${taskId}:turn-${turn}:queued`;
}

/** The one message saying a turn paused at the usage limit (a turn is paused-and-told once). */
export function quotaPausedKey(taskId: string, turn: number): string {
  return `${taskId}:turn-${turn}:quota-paused`;
}

/** A turn's progress message (edited in place while the turn runs, and then into the result). */
export function progressKey(taskId: string, turn: number): string {
  return `${taskId}:turn-${turn}:progress`;
}

/** The n-th milestone message of a turn (1, 2, 3…), for channels that cannot edit one progress message. */
export function milestoneKey(taskId: string, turn: number, n: number): string {
  return `${taskId}:turn-${turn}:milestone-${n}`;
}
