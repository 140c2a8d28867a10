// The MongoDB mirror on the real MongoDB-wire store. The first test is the regression test for a
// fault the fault suite found: FerretDB dropped the connection when one createIndexes command named
// several indexes that all existed already, so the second process to open the store (a worker after
// the API) could never mirror a task.
import { MongoClient } from 'mongodb';
import { newTaskDocument, type TaskDocument } from '../../src/contract/task';
import { TaskStore } from '../../src/store/task-store';
import { makeTestEnv } from '../support/test-env';

const { config } = makeTestEnv();

function task(taskId: string, createdAt: string): TaskDocument {
  return newTaskDocument({
    task_id: taskId,
    prompt: `prompt of ${taskId}`,
    cwd: '/work',
    model: null,
    sandbox: 'workspace-write',
    approval_policy: 'never',
    notify_target: 'local',
    created_at: createdAt,
  });
}

test('a second process opening the store re-ensures the indexes and can still mirror', async () => {
  const first = await TaskStore.connect(config.mongo.uri, config.mongo.db);
  let second: TaskStore | undefined;
  try {
    await first.applyMirror(task('t-first', '2026-01-01T00:00:00.000Z'));
    second = await TaskStore.connect(config.mongo.uri, config.mongo.db);
    expect(await second.applyMirror(task('t-second', '2026-01-01T00:01:00.000Z'))).toBe('applied');
    expect((await first.get('t-second'))?.prompt).toBe('prompt of t-second');

    const client = await MongoClient.connect(config.mongo.uri, { serverSelectionTimeoutMS: 5000 });
    try {
      const names = (await client.db(config.mongo.db).collection('tasks').listIndexes().toArray()).map((i) => i.name as string);
      expect(names).toEqual(expect.arrayContaining(['created_at_desc', 'status_created_at', 'notification_status_created_at', 'notify_target_created_at']));
    } finally {
      await client.close();
    }
  } finally {
    await second?.close();
    await first.close();
  }
});

test('a mirror write applies only when its version is newer; list is newest first and filters', async () => {
  const store = await TaskStore.connect(config.mongo.uri, config.mongo.db);
  try {
    const older = task('t-older', '2026-02-01T00:00:00.000Z');
    const newer = task('t-newer', '2026-02-02T00:00:00.000Z');
    await store.applyMirror({ ...older, version: 1 });
    await store.applyMirror({ ...newer, version: 1 });
    expect(await store.applyMirror({ ...older, status: 'completed', version: 3 })).toBe('applied');
    expect(await store.applyMirror({ ...older, status: 'running', version: 2 })).toBe('stale');
    expect(await store.applyMirror({ ...older, status: 'failed', version: 3 })).toBe('stale');
    expect((await store.get('t-older'))?.status).toBe('completed');

    const listed = (await store.list({})).map((t) => t.task_id).filter((id) => id === 't-older' || id === 't-newer');
    expect(listed).toEqual(['t-newer', 't-older']);
    expect((await store.list({ status: 'completed' })).map((t) => t.task_id)).toEqual(['t-older']);
    expect(await store.list({ limit: 1 })).toHaveLength(1);
  } finally {
    await store.close();
  }
});
