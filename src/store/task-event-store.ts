// The recent progress events of each task's latest turn (`codex_bridge.task_events`, `_id` =
// task_id, one small document per task, replaced as the turn goes on). Kept out of Temporal's
// history on purpose: a turn emits hundreds of events, and readers only need the latest ones.
// Every read and write addresses the document by `_id` alone, the one filter the MongoDB-wire
// store answers without reading every document.
import type { Collection } from 'mongodb';
import type { TaskEventLog } from '../contract/task-events';

type StoredLog = Omit<TaskEventLog, 'task_id'> & { _id: string };

export class TaskEventStore {
  /** `logs` names the collection on the store's current client (which may be replaced). */
  constructor(private readonly collection: () => Collection<StoredLog>) {}

  private get logs(): Collection<StoredLog> {
    return this.collection();
  }

  async put(log: TaskEventLog): Promise<void> {
    const { task_id, ...rest } = log;
    await this.logs.replaceOne({ _id: task_id }, rest, { upsert: true });
  }

  async get(taskId: string): Promise<TaskEventLog | null> {
    const stored = await this.logs.findOne({ _id: taskId });
    if (!stored) return null;
    const { _id, ...rest } = stored;
    return { task_id: _id, ...rest };
  }
}
