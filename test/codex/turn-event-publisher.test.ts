// The turn's event log as the store receives it: the first event written at once, later ones at
// most every flushMs with one write in flight, the last `keep` kept, and the end always written;
// a store that fails loses events, never the turn.
import type { TaskEventLog } from '../../src/contract/task-events';
import { createTurnEventPublisher } from '../../activities/turn-event-publisher';

function recordingStore(options: { fail?: boolean } = {}) {
  const writes: TaskEventLog[] = [];
  return {
    writes,
    async put(log: TaskEventLog) {
      writes.push(JSON.parse(JSON.stringify(log)) as TaskEventLog);
      await new Promise((r) => setTimeout(r, 5));
      if (options.fail) throw new Error('store down');
    },
  };
}

test('the first event is written at once, a burst is coalesced, and the end is written with every event', async () => {
  const store = recordingStore();
  const sink = createTurnEventPublisher(store, { flushMs: 100 })('t1', 2, 1);
  sink.push({ kind: 'turn_started', text: 'turn started' });
  await new Promise((r) => setTimeout(r, 20));
  expect(store.writes).toHaveLength(1);
  for (let i = 0; i < 50; i++) sink.push({ kind: 'item_started', text: `$ step ${i}`, item_type: 'commandExecution' });
  await new Promise((r) => setTimeout(r, 250));
  expect(store.writes.length).toBeLessThanOrEqual(3); // 51 events, a handful of writes
  await sink.end();
  const last = store.writes[store.writes.length - 1]!;
  expect(last).toMatchObject({ task_id: 't1', turn: 2, attempt: 1, ended: true });
  expect(last.events.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
});

test('only the last `keep` events are kept; a failing store ends the turn all the same', async () => {
  const store = recordingStore({ fail: true });
  const sink = createTurnEventPublisher(store, { flushMs: 10, keep: 5 })('t2', 1, 3);
  for (let i = 0; i < 12; i++) sink.push({ kind: 'tokens', text: `tokens: ${i}` });
  await expect(sink.end()).resolves.toBeUndefined();
  const last = store.writes[store.writes.length - 1]!;
  expect(last.ended).toBe(true);
  expect(last.events.map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
});
