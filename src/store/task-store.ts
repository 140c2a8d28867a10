// The MongoDB mirror of task state (`codex_bridge.tasks`, `_id` = task_id). Temporal is the source of
// truth; this collection serves status and list queries. Every mirror write carries the workflow's
// per-task `version` and is applied only when it is newer than what is stored, so a late or repeated
// write never moves a document backwards.
import { MongoServerError, type Collection, type Filter } from 'mongodb';
import type { NotificationStatus, TaskDocument, TaskStatus } from '../contract/task';
import { TERMINAL_TASK_STATUSES } from '../contract/task';
import { UnavailableError } from '../errors';
import { hideUrlPassword } from '../logging';
import { encodeListCursor, type ListCursor } from './list-cursor';
import { MongoConnection } from './mongo-connection';
import { TaskEventStore } from './task-event-store';

type StoredTask = Omit<TaskDocument, 'task_id'> & { _id: string };

/** What `list` may filter on (the CLI's flags, the API's query parameters). */
export interface TaskListFilter {
  status?: TaskStatus;
  notification_status?: NotificationStatus;
  notify_target?: string;
  /** 1..1000, default 50. */
  limit?: number;
  before?: ListCursor;
}

/** One page of the list, newest first; next_cursor is null on the last page. */
export interface TaskListPage {
  tasks: TaskDocument[];
  next_cursor: string | null;
}

/** The list's order; each equality filter has an index on (field, created_at) to serve it. */
const NEWEST_FIRST = { created_at: -1, _id: -1 } as const;

export type MirrorOutcome = 'applied' | 'stale';

export class TaskStore {
  private constructor(private readonly connection: MongoConnection) {}

  private get tasks(): Collection<StoredTask> {
    return this.connection.collection<StoredTask>('tasks');
  }

  /** Connects (failing within `timeoutMs` when the store is unreachable) and ensures indexes. */
  static async connect(
    uri: string,
    dbName: string,
    options: { timeoutMs?: number; ensureIndexes?: boolean } = {},
  ): Promise<TaskStore> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const connection = new MongoConnection(uri, dbName, {
      serverSelectionTimeoutMS: timeoutMs,
      connectTimeoutMS: timeoutMs,
    });
    try {
      await connection.mongoClient.connect();
      const store = new TaskStore(connection);
      if (options.ensureIndexes !== false) await store.ensureIndexes();
      return store;
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw new UnavailableError(
        `The task store at ${hideUrlPassword(uri)} is unreachable: ${(err as Error).message}; start it or set MONGODB_URI.`,
      );
    }
  }

  /**
   * A store that connects on first use, for the worker: it must start (and keep running workflows)
   * while the store is down; mirror writes fail, are retried, and catch up when it returns.
   */
  static lazy(uri: string, dbName: string, options: { timeoutMs?: number } = {}): TaskStore {
    const timeoutMs = options.timeoutMs ?? 5000;
    const store = new TaskStore(
      new MongoConnection(uri, dbName, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs }),
    );
    store.indexesPending = true;
    return store;
  }

  private indexesPending = false;

  /** Indexes for the list queries (newest first, optionally by status / notification status / target). */
  async ensureIndexes(): Promise<void> {
    // One index per command: FerretDB 1.24 drops the connection when one createIndexes command names
    // several indexes that all exist already (so a second process — a worker after the API — could
    // never mirror). Creating an existing index on its own is a no-op everywhere.
    for (const { key, name } of [
      { key: { created_at: -1 }, name: 'created_at_desc' },
      { key: { status: 1, created_at: -1 }, name: 'status_created_at' },
      { key: { notification_status: 1, created_at: -1 }, name: 'notification_status_created_at' },
      { key: { notify_target: 1, created_at: -1 }, name: 'notify_target_created_at' },
    ]) {
      await this.tasks.createIndex(key, { name });
    }
  }

  /** Writes `doc` if its version is newer than the stored one; a stale or repeated write changes nothing. */
  /** Each task's mirror write in flight in this process, so the next one waits for it. */
  private readonly writing = new Map<string, Promise<unknown>>();

  /**
   * Writes `doc` unless the stored version is as new. Writes of one task are made one at a time,
   * in order: a version-guarded update is a read and a write on some MongoDB-wire stores (FerretDB),
   * so two at once could leave the older version stored.
   */
  async applyMirror(doc: TaskDocument): Promise<MirrorOutcome> {
    const previous = this.writing.get(doc.task_id);
    const write = (previous ? previous.catch(() => undefined) : Promise.resolve()).then(() =>
      this.connection.run(() => this.writeMirror(doc)),
    );
    this.writing.set(doc.task_id, write);
    try {
      return await write;
    } finally {
      if (this.writing.get(doc.task_id) === write) this.writing.delete(doc.task_id);
    }
  }

  private async writeMirror(doc: TaskDocument): Promise<MirrorOutcome> {
    if (this.indexesPending) {
      await this.ensureIndexes();
      this.indexesPending = false;
    }
    const { task_id, ...rest } = doc;
    try {
      const res = await this.tasks.updateOne(
        { _id: task_id, version: { $lt: doc.version } },
        { $set: rest },
        { upsert: true },
      );
      return res.modifiedCount + res.upsertedCount > 0 ? 'applied' : 'stale';
    } catch (err) {
      // The filter missed because a newer (or equal) version is stored, so the upsert tried to insert
      // a second document with the same _id.
      if (err instanceof MongoServerError && err.code === 11000) return 'stale';
      throw err;
    }
  }

  /**
   * A change made outside the workflow (the watcher): applied only if the document is still at
   * `expectedVersion`, and it bumps the version so no older mirror write can undo it.
   */
  async updateIfVersion(
    taskId: string,
    expectedVersion: number,
    set: Partial<Omit<TaskDocument, 'task_id' | 'version'>>,
  ): Promise<boolean> {
    const res = await this.connection.run(() =>
      this.tasks.updateOne({ _id: taskId, version: expectedVersion }, { $set: set, $inc: { version: 1 } }),
    );
    return res.modifiedCount === 1;
  }

  async get(taskId: string): Promise<TaskDocument | null> {
    const stored = await this.connection.run(() => this.tasks.findOne({ _id: taskId }));
    return stored ? toDocument(stored) : null;
  }

  /**
   * Newest first, one page. A page reads its tasks and one more (to know whether another page
   * follows) along an index, never counting and never skipping: the next page starts after the
   * cursor, with two range reads instead of one `$or` (which the embedded store cannot serve from
   * an index) — the rest of the tasks created at the cursor's instant, then the older ones.
   */
  async list(filter: TaskListFilter = {}): Promise<TaskListPage> {
    const limit = filter.limit ?? 50;
    const query: Filter<StoredTask> = {};
    if (filter.status) query.status = filter.status;
    if (filter.notification_status) query.notification_status = filter.notification_status;
    if (filter.notify_target) query.notify_target = filter.notify_target;
    const read = (q: Filter<StoredTask>, n: number) =>
      n > 0 ? this.connection.run(() => this.tasks.find(q).sort(NEWEST_FIRST).limit(n).toArray()) : Promise.resolve([]);
    let docs: StoredTask[];
    if (!filter.before) {
      docs = await read(query, limit + 1);
    } else {
      const { created_at, task_id } = filter.before;
      const sameInstant = await read({ ...query, created_at, _id: { $lt: task_id } }, limit + 1);
      docs = [
        ...sameInstant,
        ...(await read({ ...query, created_at: { $lt: created_at } }, limit + 1 - sameInstant.length)),
      ];
    }
    const tasks = docs.slice(0, limit).map(toDocument);
    const last = tasks[tasks.length - 1];
    return { tasks, next_cursor: docs.length > limit && last ? encodeListCursor(last) : null };
  }

  /** Terminal tasks whose notification is `pending` (and `failed` when retrying): the watcher's scan. */
  async findUndelivered(options: { retryFailed: boolean; limit?: number }): Promise<TaskDocument[]> {
    const notification: (NotificationStatus | null)[] = options.retryFailed
      ? ['pending', 'failed', null]
      : ['pending', null];
    const docs = await this.connection.run(() =>
      this.tasks
        .find({ status: { $in: [...TERMINAL_TASK_STATUSES] }, notification_status: { $in: notification } })
        .sort({ created_at: 1 })
        .limit(options.limit ?? 1000)
        .toArray(),
    );
    return docs.map(toDocument);
  }

  /** The progress events of running turns, on the same connection. */
  events(): TaskEventStore {
    this.eventStore ??= new TaskEventStore(() => this.connection.collection('task_events'));
    return this.eventStore;
  }

  private eventStore: TaskEventStore | undefined;

  async ping(): Promise<void> {
    await this.connection.run(() => this.connection.mongoClient.db('admin').command({ ping: 1 }));
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

function toDocument({ _id, ...rest }: StoredTask): TaskDocument {
  return { task_id: _id, ...rest } as TaskDocument;
}
