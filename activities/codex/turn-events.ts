// Turns app-server notifications into the task's progress events (one line each for people):
// items started and completed, plan changes, token usage and the turn's end. Deltas and other
// threads' notifications make no event.
import type { ServerNotification, ThreadItem } from './app-server-methods';
import type { TaskEventKind } from '../../src/contract/task-events';
import { oneLine } from '../../src/contract/text';

export interface TurnEventDraft {
  kind: TaskEventKind;
  text: string;
  item_type?: string;
}

/** The event a notification makes for the turn `turnId` of thread `threadId`, if any. */
export function eventOf(
  notification: ServerNotification,
  threadId: string | null,
  turnId: string | null,
): TurnEventDraft | null {
  const params = notification.params as { threadId?: string; turnId?: string };
  if (params.threadId !== undefined && threadId !== null && params.threadId !== threadId) return null;
  switch (notification.method) {
    case 'turn/started':
      return { kind: 'turn_started', text: 'turn started' };
    case 'item/started':
    case 'item/completed': {
      if (turnId !== null && notification.params.turnId !== turnId) return null;
      const item = notification.params.item;
      const text = itemText(item, notification.method === 'item/completed');
      if (text === null) return null;
      return {
        kind: notification.method === 'item/started' ? 'item_started' : 'item_completed',
        text,
        item_type: item.type,
      };
    }
    case 'turn/plan/updated': {
      const { plan } = notification.params;
      const done = plan.filter((s) => s.status === 'completed').length;
      const now = plan.find((s) => s.status === 'inProgress');
      return { kind: 'plan_updated', text: planText(done, plan.length, now ? oneLine(now.step, 100) : null) };
    }
    case 'thread/tokenUsage/updated': {
      const { total } = notification.params.tokenUsage;
      return { kind: 'tokens', text: `tokens: ${total.totalTokens} in this thread` };
    }
    case 'turn/completed':
      if (turnId !== null && notification.params.turn.id !== turnId) return null;
      return { kind: 'turn_ended', text: `turn ${notification.params.turn.status}` };
    default:
      return null;
  }
}

/** How far a plan is, as a `plan_updated` event says it: "plan: 2/5 steps done, now: run the tests". */
export interface PlanProgress {
  done: number;
  total: number;
  now: string | null;
}

function planText(done: number, total: number, now: string | null): string {
  return `plan: ${done}/${total} steps done${now !== null ? `, now: ${now}` : ''}`;
}

/** The plan progress a `plan_updated` event's text carries (the inverse of planText). */
export function planProgressOf(text: string): PlanProgress | null {
  const m = /^plan: (\d+)\/(\d+) steps done(?:, now: (.*))?$/s.exec(text);
  return m ? { done: Number(m[1]), total: Number(m[2]), now: m[3] ?? null } : null;
}

const PATH_SEPARATOR = ', ';

/** The paths a completed fileChange event's text names ("changed a.ts, b.ts"). */
export function changedPathsOf(text: string): string[] {
  return text.startsWith('changed ') ? text.slice('changed '.length).split(PATH_SEPARATOR) : [];
}

function itemText(item: ThreadItem, completed: boolean): string | null {
  switch (item.type) {
    case 'commandExecution':
      return completed
        ? `$ ${oneLine(item.command, 160)} → exit ${item.exitCode ?? '?'}`
        : `$ ${oneLine(item.command, 160)}`;
    case 'fileChange':
      return `${completed ? 'changed' : 'changing'} ${item.changes.map((c) => c.path).join(PATH_SEPARATOR)}`;
    case 'agentMessage':
      return completed ? `says: ${oneLine(item.text, 200)}` : null;
    case 'userMessage':
      return null;
    case 'reasoning':
      return completed ? 'thought' : null;
    default:
      return `${completed ? 'done' : 'started'}: ${item.type}`;
  }
}
