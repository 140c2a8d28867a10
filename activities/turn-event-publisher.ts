// Publishes a turn's progress events to the store's task_events document while the turn runs: the
// first event at once, then at most one write every `flushMs`, one write in flight, the last
// `keep` events kept. Best effort: a store that is down loses events, never the turn.
import type { TaskEvent, TaskEventLog } from '../src/contract/task-events';
import type { TurnEventDraft } from './codex/turn-events';

export interface TurnEventSink {
  push(draft: TurnEventDraft): void;
  /** Marks the turn over and writes what is left (waits at most a few seconds). */
  end(): Promise<void>;
}

export type TurnEventPublisher = (taskId: string, turn: number, attempt: number) => TurnEventSink;

export interface TaskEventWriter {
  put(log: TaskEventLog): Promise<void>;
}

export function createTurnEventPublisher(
  store: TaskEventWriter,
  options: { flushMs?: number; keep?: number } = {},
): TurnEventPublisher {
  const flushMs = options.flushMs ?? 200;
  const keep = options.keep ?? 200;
  return (taskId, turn, attempt) => {
    const events: TaskEvent[] = [];
    let seq = 0;
    let ended = false;
    let lastWriteAt = 0;
    let writing: Promise<void> | null = null;
    let timer: NodeJS.Timeout | null = null;
    let dirty = false;

    const write = () => {
      timer = null;
      dirty = false;
      lastWriteAt = Date.now();
      const log: TaskEventLog = {
        task_id: taskId,
        turn,
        attempt,
        events: events.slice(),
        ended,
        updated_at: new Date().toISOString(),
      };
      writing = store
        .put(log)
        .catch(() => undefined)
        .then(() => {
          writing = null;
          if (dirty) schedule();
        });
    };
    const schedule = () => {
      dirty = true;
      if (writing || timer) return;
      const wait = Math.max(0, lastWriteAt + flushMs - Date.now());
      if (wait === 0) write();
      else timer = setTimeout(write, wait);
    };

    return {
      push(draft) {
        if (ended) return;
        events.push({ seq: ++seq, at: new Date().toISOString(), turn, ...draft });
        if (events.length > keep) events.splice(0, events.length - keep);
        schedule();
      },
      async end() {
        ended = true;
        if (timer) clearTimeout(timer);
        timer = null;
        const settle = (async () => {
          if (writing) await writing;
          write();
          await writing;
        })();
        await Promise.race([settle, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      },
    };
  };
}
