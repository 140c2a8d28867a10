// Milestones: for channels that cannot edit a message they sent (the Hermes gateway's deliver-only
// route, the local inbox), a long turn's progress as a few separate short messages instead of one
// message edited in place. The rule, per turn:
//   - a plan step is done: when the count of completed steps in Codex's plan rises, one message
//     ("step 2/5 done, now: …"); steps completing within `intervalMs / 5` of the previous milestone
//     are told together, in one message, once that gap has passed;
//   - still working: when `intervalMs` has passed since the turn started or since the last milestone
//     and Codex did something meanwhile, one message ("still working: 4 commands run, 2 files
//     changed, now: …");
//   - at most `maxPerTurn` messages, one request at a time, none once the turn has ended.
// Best effort: a milestone that fails is not retried (the next one carries newer progress), and
// the turn waits for one still in flight only briefly, so the completion is never held up. Each
// milestone's idempotency key names the task, turn and milestone number: a retried attempt of the
// turn numbers its milestones from 1 again, so the channel drops what an earlier attempt posted.
import { milestoneKey } from '../src/contract/idempotency';
import type { NotifyTarget } from '../src/contract/notify-target';
import { changedPathsOf, planProgressOf, type PlanProgress } from './codex/turn-events';
import type { NotificationMessage, Notifier } from './notify/notifier';
import type { TurnEventSink } from './turn-event-publisher';
import type { TurnEventDraft } from './codex/turn-events';

export interface MilestoneOptions {
  /** The channels' notifier (the one the completion goes through). */
  notifier: Notifier;
  /** A "still working" message at most this often (default 5 minutes). */
  intervalMs?: number;
  /** Milestone messages per turn at most (default 10). */
  maxPerTurn?: number;
  /** How long the turn's end waits for a milestone still in flight (default 3 s). */
  endWaitMs?: number;
}

export const DEFAULT_MILESTONE_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_MILESTONES_PER_TURN = 10;

/** What the milestones report: counted over the whole turn (the Feishu card shows only the latest lines). */
interface TurnTally {
  commands: number;
  files: Set<string>;
  current: string | null;
  plan: PlanProgress | null;
  events: number;
}

export function milestoneSink(
  options: MilestoneOptions,
  target: NotifyTarget,
  taskId: string,
  turn: number,
): TurnEventSink {
  const intervalMs = options.intervalMs ?? DEFAULT_MILESTONE_INTERVAL_MS;
  const stepGapMs = intervalMs / 5;
  const maxPerTurn = options.maxPerTurn ?? DEFAULT_MILESTONES_PER_TURN;
  const startedAt = Date.now();
  const tally: TurnTally = { commands: 0, files: new Set(), current: null, plan: null, events: 0 };
  let sent = 0;
  let lastSentAt: number | null = null;
  let eventsAtLastSend = 0;
  let stepsTold = 0;
  let closed = false;
  let inFlight: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;

  const stepPending = () => (tally.plan?.done ?? 0) > stepsTold;
  /** When the next milestone may go, or null when nothing is due until more happens. */
  const nextAt = (): number | null => {
    if (stepPending()) return lastSentAt === null ? Date.now() : lastSentAt + stepGapMs;
    if (tally.events > eventsAtLastSend) return (lastSentAt ?? startedAt) + intervalMs;
    return null;
  };

  const send = () => {
    timer = null;
    if (closed || inFlight || sent >= maxPerTurn) return;
    const at = nextAt();
    if (at === null) return;
    if (at > Date.now()) return schedule();
    const step = stepPending();
    sent += 1;
    lastSentAt = Date.now();
    eventsAtLastSend = tally.events;
    stepsTold = Math.max(stepsTold, tally.plan?.done ?? 0);
    const message = milestoneMessage(taskId, turn, tally, step ? 'step' : 'working', lastSentAt - startedAt);
    inFlight = options
      .notifier(target, message, milestoneKey(taskId, turn, sent))
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => {
        inFlight = null;
        schedule();
      });
  };
  const schedule = () => {
    if (closed || timer || inFlight || sent >= maxPerTurn) return;
    const at = nextAt();
    if (at === null) return;
    timer = setTimeout(send, Math.max(0, at - Date.now()));
    timer.unref();
  };
  const close = () => {
    closed = true;
    if (timer) clearTimeout(timer);
    timer = null;
  };

  return {
    push(event) {
      if (closed) return;
      if (event.kind === 'turn_ended') return close();
      tally.events += 1;
      record(tally, event);
      // A plan step may make a milestone due sooner than the timer set for "still working".
      if (timer && event.kind === 'plan_updated') {
        clearTimeout(timer);
        timer = null;
      }
      schedule();
    },
    async end() {
      close();
      const wait = options.endWaitMs ?? 3000;
      if (inFlight) await Promise.race([inFlight, new Promise((resolve) => setTimeout(resolve, wait).unref())]);
    },
  };
}

function record(tally: TurnTally, event: TurnEventDraft): void {
  switch (event.kind) {
    case 'item_started':
    case 'reply_steered':
      tally.current = event.text;
      return;
    case 'item_completed':
      if (event.item_type === 'commandExecution') tally.commands += 1;
      if (event.item_type === 'fileChange') for (const p of changedPathsOf(event.text)) tally.files.add(p);
      return;
    case 'plan_updated':
      tally.plan = planProgressOf(event.text) ?? tally.plan;
      return;
    default:
      return;
  }
}

const LINE = 200;

/** One short message: what was reached, and what Codex does now. */
export function milestoneMessage(
  taskId: string,
  turn: number,
  tally: Pick<TurnTally, 'commands' | 'files' | 'current' | 'plan'>,
  kind: 'step' | 'working',
  elapsedMs: number,
): NotificationMessage {
  const turnSuffix = turn > 1 ? ` (turn ${turn})` : '';
  const plan = tally.plan;
  const title =
    kind === 'step' && plan
      ? `⏳ Codex task ${taskId}: step ${plan.done}/${plan.total} done${turnSuffix}`
      : `⏳ Codex task ${taskId} still working after ${minutes(elapsedMs)}${turnSuffix}`;
  const counts = `${plural(tally.commands, 'command')} run, ${plural(tally.files.size, 'file')} changed`;
  const now = plan?.now ?? tally.current;
  const lines = [
    kind === 'working' && plan ? `${counts}, plan: ${plan.done}/${plan.total} steps done` : counts,
    ...(now ? [`now: ${now}`] : []),
  ].map((l) => (l.length > LINE ? `${l.slice(0, LINE - 1)}…` : l));
  return { kind: 'milestone', taskId, turn, title, text: lines.join('\n'), fields: [], url: null };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m >= 1 ? `${m} min` : `${Math.max(1, Math.round(ms / 1000))} s`;
}
