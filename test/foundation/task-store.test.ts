// The MongoDB mirror on the real MongoDB-wire store. The first test is the regression test for a
// fault the fault suite found: FerretDB dropped the connection when one createIndexes command named
// several indexes that all existed already, so the second process to open the store (a worker after
// the API) could never mirror a task.
import { MongoClient } from 'mongodb';
import { newTaskDocument, type TaskDocument } from '../../src/contract/task';
import { decodeListCursor } from '../../src/store/list-cursor';
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
      const names = (await client.db(config.mongo.db).collection('tasks').listIndexes().toArray()).map(
        (i) => i.name as string,
      );
      expect(names).toEqual(
        expect.arrayContaining([
          'created_at_desc',
          'status_created_at',
          'notification_status_created_at',
          'notify_target_created_at',
        ]),
      );
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

    const listed = (await store.list({})).tasks
      .map((t) => t.task_id)
      .filter((id) => id === 't-older' || id === 't-newer');
    expect(listed).toEqual(['t-newer', 't-older']);
    expect((await store.list({ status: 'completed' })).tasks.map((t) => t.task_id)).toEqual(['t-older']);
    expect((await store.list({ limit: 1 })).tasks).toHaveLength(1);
  } finally {
    await store.close();
  }
});

test('list pages by cursor: every task once, newest first, ties on created_at kept apart by id, new tasks not shifting later pages', async () => {
  const store = await TaskStore.connect(config.mongo.uri, config.mongo.db);
  try {
    const target = `webhook:http://127.0.0.1:9/pages-${Date.now()}`;
    const at = (minute: number) => `2026-04-01T00:0${minute}:00.000Z`;
    // Three tasks share one instant, so a page boundary falls inside a tie.
    const created: [string, string][] = [
      ['p-a', at(1)],
      ['p-b', at(2)],
      ['p-c', at(2)],
      ['p-d', at(2)],
      ['p-e', at(3)],
      ['p-f', at(4)],
      ['p-g', at(5)],
    ];
    for (const [id, createdAt] of created) {
      await store.applyMirror({
        ...task(`${id}-x`, createdAt),
        notify_target: target,
        status: id === 'p-c' ? 'failed' : 'completed',
      });
    }
    const expected = ['p-g-x', 'p-f-x', 'p-e-x', 'p-d-x', 'p-c-x', 'p-b-x', 'p-a-x'];

    const seen: string[] = [];
    let page = await store.list({ notify_target: target, limit: 2 });
    let pages = 1;
    seen.push(...page.tasks.map((t) => t.task_id));
    // A task arriving between pages appears on a fresh first page, not in the middle of this walk.
    await store.applyMirror({ ...task('p-new-x', at(9)), notify_target: target });
    while (page.next_cursor) {
      page = await store.list({ notify_target: target, limit: 2, before: decodeListCursor(page.next_cursor)! });
      seen.push(...page.tasks.map((t) => t.task_id));
      pages++;
    }
    expect(seen).toEqual(expected);
    expect(pages).toBe(4);

    // Exactly a page's worth left: the last full page says there is no next one.
    const firstSix = await store.list({ notify_target: target, limit: 6 });
    const rest = await store.list({
      notify_target: target,
      limit: 2,
      before: decodeListCursor(firstSix.next_cursor!)!,
    });
    expect(rest.tasks.map((t) => t.task_id)).toEqual(['p-b-x', 'p-a-x']);
    expect(rest.next_cursor).toBeNull();

    // Filters and the cursor combine.
    const completed = await store.list({
      notify_target: target,
      status: 'completed',
      limit: 3,
      before: { created_at: at(2), task_id: 'p-d-x' },
    });
    expect(completed.tasks.map((t) => t.task_id)).toEqual(['p-b-x', 'p-a-x']);
  } finally {
    await store.close();
  }
});
