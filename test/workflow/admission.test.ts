// Admission in the time-skipping test server, with limits 2 per task queue and 1 per repository:
// tasks on one repository queue durably (status `queued` with their position, the search attribute,
// the Web UI's details, one "queued" message each) and run one at a time in the order they asked;
// a queued task can be cancelled both ways; a usage-limit pause holds queued tasks until the reset;
// a holder that is terminated does not block the queue. Also the pure queue rules.
import * as fs from 'node:fs';
import { Context } from '@temporalio/activity';
import type { CodexTurnInput, CodexTurnResult } from '../../src/contract/codex-turn';
import {
  admissionStateQuery,
  admissionWorkflowId,
  type AdmissionLimits,
  type SlotRequest,
} from '../../src/contract/admission';
import { IDLE_LINGER_MS } from '../../workflows/admission-workflow';
import { CodexTaskStatusKey } from '../../src/contract/search-attributes';
import { isTerminalStatus, type TaskDocument } from '../../src/contract/task';
import { holderKey, nextAdmissions, queuePositions, withRequest } from '../../workflows/admission-rules';
import { FakeNotifier } from '../support/fake-notifier';
import { fakeCodex, turnResult } from '../support/fake-codex';
import { createWorkflowHarness, type WorkflowHarness } from '../support/workflow-harness';

const LIMITS: AdmissionLimits = { max_running: 2, per_repository: 1, per_notify_target: 0 };

describe('the queue rules', () => {
  const req = (task_id: string, repository: string | null, notify_target: string | null = null): SlotRequest => ({
    task_id,
    run_id: `run-${task_id}`,
    repository,
    notify_target,
    limits: LIMITS,
  });

  test('first come, first served within the per-queue and per-repository limits', () => {
    const queued = [req('a', '/r1'), req('b', '/r1'), req('c', '/r2'), req('d', '/r3')];
    expect(nextAdmissions(queued, []).map((r) => r.task_id)).toEqual(['a', 'c']);
    expect(nextAdmissions(queued.slice(1), [req('a', '/r1')]).map((r) => r.task_id)).toEqual(['c']);
    expect(nextAdmissions(queued.slice(2), [req('a', '/r1'), req('x', null)])).toEqual([]);
  });

  test('tasks writing in no shared tree (read-only, own worktree) count against no repository', () => {
    expect(nextAdmissions([req('a', null), req('b', null)], []).map((r) => r.task_id)).toEqual(['a', 'b']);
  });

  test('per notify target; 0 means no limit', () => {
    const limits = { max_running: 0, per_repository: 0, per_notify_target: 1 };
    const queued = ['a', 'b', 'c'].map((id, i) => ({ ...req(id, '/r', i < 2 ? 'local' : 'feishu:oc_1'), limits }));
    expect(nextAdmissions(queued, []).map((r) => r.task_id)).toEqual(['a', 'c']);
    const unlimited = queued.map((r) => ({
      ...r,
      limits: { max_running: 0, per_repository: 0, per_notify_target: 0 },
    }));
    expect(nextAdmissions(unlimited, [])).toHaveLength(3);
  });

  test('positions are places in the queue', () => {
    const queued = [req('a', '/r1'), req('b', '/r2'), req('c', '/r1')];
    expect([...queuePositions(queued).entries()]).toEqual([
      [holderKey(queued[0]!), 0],
      [holderKey(queued[1]!), 1],
      [holderKey(queued[2]!), 2],
    ]);
  });

  test("a repeated request keeps its place; another run of the same task replaces the earlier run's", () => {
    const a = req('a', '/r1');
    const repeated = withRequest([a, req('b', '/r1')], [], a);
    expect({ ids: repeated.queued.map((r) => r.task_id), added: repeated.added }).toEqual({
      ids: ['a', 'b'],
      added: false,
    });
    const nextRun = { ...a, run_id: 'run-a-2' };
    const replaced = withRequest([req('b', '/r1')], [a], nextRun);
    expect({ queued: replaced.queued.map(holderKey), running: replaced.running, added: replaced.added }).toEqual({
      queued: [holderKey(req('b', '/r1')), holderKey(nextRun)],
      running: [],
      added: true,
    });
  });
});

describe('in the time-skipping test server', () => {
  let h: WorkflowHarness;
  beforeAll(async () => {
    h = await createWorkflowHarness({
      CODEX_BRIDGE_ADMISSION: 'on',
      CODEX_BRIDGE_MAX_RUNNING: String(LIMITS.max_running),
      CODEX_BRIDGE_MAX_PER_REPOSITORY: String(LIMITS.per_repository),
      CODEX_BRIDGE_MAX_PER_TARGET: '0',
    });
  });
  afterAll(async () => {
    await h?.close();
  });
  /** Workers without a sticky cache: the admission workflow outlives a test's worker, and a later one takes it over. */
  const withWorker: WorkflowHarness['withWorker'] = (deps, fn) => h.withWorker(deps, fn, { maxCachedWorkflows: 0 });

  /** A turn that heartbeats until `open()` is called for its task. */
  function gatedCodex(then: (input: CodexTurnInput) => Promise<CodexTurnResult> | CodexTurnResult = turnResult) {
    const gates = new Map<string, () => void>();
    const waiting = new Map<string, Promise<void>>();
    const gate = (taskId: string) => {
      if (!waiting.has(taskId)) waiting.set(taskId, new Promise<void>((resolve) => gates.set(taskId, resolve)));
      return waiting.get(taskId)!;
    };
    let running = 0;
    let maxRunning = 0;
    const order: string[] = [];
    const codex = fakeCodex(async (input) => {
      order.push(input.taskId);
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      try {
        const ctx = Context.current();
        let open = false;
        void gate(input.taskId).then(() => (open = true));
        while (!open) {
          ctx.heartbeat();
          await new Promise((r) => setTimeout(r, 50));
        }
        return await then(input);
      } finally {
        running -= 1;
      }
    });
    return {
      codex,
      order,
      maxRunning: () => maxRunning,
      open: (taskId: string) => {
        void gate(taskId);
        gates.get(taskId)!();
      },
    };
  }

  const start = (i: number, extra: { notify_target?: string; cwd?: string; task_id?: string } = {}) =>
    h.service.start({
      task_id: extra.task_id ?? `adm-${i}`,
      prompt: `queued task ${i}`,
      cwd: extra.cwd ?? h.workdir,
      notify_target: extra.notify_target ?? 'local',
    });

  /**
   * Once nobody holds or waits for a slot, the admission workflow lingers IDLE_LINGER_MS for a
   * request, then ends (on a worker of its own: the test's worker has stopped). A test in which the
   * server skipped time (a usage-limit reset) may find it ended already; `lingering` says it must not.
   */
  async function admissionEnds({ lingering = false } = {}): Promise<void> {
    const handle = h.env.client.workflow.getHandle(admissionWorkflowId(h.config.temporal.taskQueue));
    await withWorker({ runCodexTurn: fakeCodex(), notifier: new FakeNotifier().notifier }, async () => {
      const running = (await handle.describe()).status.name === 'RUNNING';
      if (lingering) expect(running).toBe(true);
      if (running) {
        const state = await handle.query(admissionStateQuery);
        expect({ queued: state.queued, running: state.running }).toEqual({ queued: [], running: [] });
        await h.env.sleep(IDLE_LINGER_MS + 1_000);
      }
      await handle.result();
    });
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  }

  /**
   * The tasks' final documents, read once every task has ended: the test server skips time while a
   * client waits for a result, and would skip past a gated turn's heartbeat timeout.
   */
  async function finish(ids: string[]): Promise<TaskDocument[]> {
    const finals: TaskDocument[] = [];
    for (const id of ids)
      finals.push(await h.waitFor(id, (t) => isTerminalStatus(t.status) && t.notification_status !== 'pending'));
    return finals;
  }

  async function currentDetails(taskId: string): Promise<string> {
    const meta = await h.env.client.workflow
      .getHandle(taskId)
      .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    return meta.currentDetails ?? '';
  }

  test('10 tasks on one repository run one at a time in the order they asked, each told its place once and its result once', async () => {
    const notifier = new FakeNotifier();
    const g = gatedCodex();
    const ids = Array.from({ length: 10 }, (_, i) => `ten-${i}`);
    const { finals, list, attribute, details } = await withWorker(
      { runCodexTurn: g.codex, notifier: notifier.notifier },
      async () => {
        // Started back to back; each one's request reaches the queue before the next is started, so
        // the order they asked in is the order they were started in.
        await start(0, { task_id: ids[0] });
        await h.waitFor(ids[0]!, (t) => t.status === 'running');
        for (let i = 1; i < ids.length; i++) {
          await start(i, { task_id: ids[i] });
          await h.waitFor(ids[i]!, (t) => t.status === 'queued' && t.queue_position === i - 1);
        }
        // Every queued task's mirror shows its place (status and list read the store).
        for (let i = 1; i < ids.length; i++)
          await waitForStore(ids[i]!, (t) => t.status === 'queued' && t.queue_position === i - 1);
        const list = await h.service.list({ status: 'queued', limit: 50 });
        const attribute = (await h.env.client.workflow.getHandle(ids[3]!).describe()).typedSearchAttributes.get(
          CodexTaskStatusKey,
        );
        const details = await currentDetails(ids[3]!);
        // Then each turn runs when it is let go; the queue moves up by itself.
        for (const id of ids) {
          await h.waitFor(id, (t) => t.status === 'running');
          g.open(id);
        }
        return { finals: await finish(ids), list, attribute, details };
      },
    );
    expect(list.tasks.map((t) => [t.task_id, t.queue_position]).sort()).toEqual(ids.slice(1).map((id, i) => [id, i]));
    expect(attribute).toBe('queued');
    expect(details).toContain('**Queued:** 2 ahead');
    expect(g.order).toEqual(ids);
    expect(g.maxRunning()).toBe(1);
    for (const final of finals) {
      expect({ id: final.task_id, status: final.status, position: final.queue_position ?? null }).toEqual({
        id: final.task_id,
        status: 'completed',
        position: null,
      });
      expect(await h.store.get(final.task_id)).toEqual(final);
    }
    // One completion per task; one "queued" message per queued task, naming its place then.
    const byKey = new Map<string, number>();
    for (const c of notifier.calls) byKey.set(c.idempotencyKey, (byKey.get(c.idempotencyKey) ?? 0) + 1);
    expect([...byKey.values()].every((n) => n === 1)).toBe(true);
    for (const id of ids) expect(byKey.has(`${id}:turn-1:completion`)).toBe(true);
    const queuedMessages = notifier.calls.filter((c) => c.message.kind === 'queued');
    expect(queuedMessages.map((c) => [c.idempotencyKey, c.message.title])).toEqual(
      ids.slice(1).map((id, i) => [`${id}:turn-1:queued`, `⏳ Codex task ${id} queued: ${i} ahead`]),
    );
    expect(notifier.calls).toHaveLength(ids.length + ids.length - 1);
    await admissionEnds({ lingering: true });
  });

  test('10 tasks started at the same moment: one runs, the others are told distinct places 0-8 and run in that order', async () => {
    const notifier = new FakeNotifier();
    const g = gatedCodex();
    const ids = Array.from({ length: 10 }, (_, i) => `once-${i}`);
    const finals = await withWorker({ runCodexTurn: g.codex, notifier: notifier.notifier }, async () => {
      await Promise.all(ids.map((id, i) => start(i, { task_id: id })));
      // Whichever asked first runs; each of the others hears its place before anything moves.
      const placed = await Promise.all(
        ids.map((id) => h.waitFor(id, (t) => t.status === 'running' || typeof t.queue_position === 'number')),
      );
      expect(placed.filter((t) => t.status === 'running')).toHaveLength(1);
      // Let each turn end once it has started; the next one starts by itself.
      for (let n = 1; n <= ids.length; n++) {
        const deadline = Date.now() + 30_000;
        while (g.order.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        g.open(g.order[n - 1]!);
      }
      return finish(ids);
    });
    expect(finals.map((t) => t.status)).toEqual(ids.map(() => 'completed'));
    expect(g.maxRunning()).toBe(1);
    const told = new Map(
      notifier.calls.filter((c) => c.message.kind === 'queued').map((c) => [c.message.taskId, c.message.title]),
    );
    expect(told.size).toBe(9);
    // The one that ran first was never queued; the rest ran in the order of the places they were told.
    const placeOf = (id: string) => Number(/queued: (\d+) ahead/.exec(told.get(id)!)![1]);
    expect(told.has(g.order[0]!)).toBe(false);
    expect(g.order.slice(1).map(placeOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(notifier.calls.filter((c) => c.message.kind === 'completion')).toHaveLength(10);
    await admissionEnds();
  });

  test('a queued task is cancelled through the bridge or through Temporal: it never runs, and the queue moves up', async () => {
    const notifier = new FakeNotifier();
    const g = gatedCodex();
    const { finals, movedUp } = await withWorker({ runCodexTurn: g.codex, notifier: notifier.notifier }, async () => {
      await start(0, { task_id: 'c-0' });
      await h.waitFor('c-0', (t) => t.status === 'running');
      for (const [i, id] of ['c-1', 'c-2', 'c-3'].entries()) {
        await start(i + 1, { task_id: id });
        await h.waitFor(id, (t) => t.status === 'queued' && t.queue_position === i);
      }
      await h.service.cancel('c-1');
      await h.env.client.workflow.getHandle('c-2').cancel();
      const movedUp = await h.waitFor('c-3', (t) => t.queue_position === 0);
      g.open('c-0');
      await h.waitFor('c-3', (t) => t.status === 'running');
      g.open('c-3');
      return { finals: await finish(['c-0', 'c-1', 'c-2', 'c-3']), movedUp };
    });
    expect(movedUp.status).toBe('queued');
    expect(finals.map((t) => t.status)).toEqual(['completed', 'cancelled', 'cancelled', 'completed']);
    expect(g.order).toEqual(['c-0', 'c-3']);
    const kinds = (id: string) => notifier.calls.filter((c) => c.message.taskId === id).map((c) => c.message.kind);
    expect(kinds('c-1')).toEqual(['queued', 'completion']);
    expect(kinds('c-2')).toEqual(['queued', 'completion']);
    expect(
      notifier.calls.find((c) => c.message.taskId === 'c-1' && c.message.kind === 'completion')?.message.status,
    ).toBe('cancelled');
    expect((await h.env.client.workflow.getHandle('c-2').describe()).status.name).toBe('CANCELLED');
    await admissionEnds();
  });

  test('a follow-up turn asks for a slot like a new task: a reply to a finished task queues behind the task holding its repository', async () => {
    const notifier = new FakeNotifier();
    const g = gatedCodex();
    const final = await withWorker({ runCodexTurn: g.codex, notifier: notifier.notifier }, async () => {
      await start(0, { task_id: 'r-0' });
      await h.waitFor('r-0', (t) => t.status === 'running');
      g.open('r-0');
      await h.waitFor('r-0', (t) => t.notification_status === 'sent');
      await start(1, { task_id: 'r-1' });
      await h.waitFor('r-1', (t) => t.status === 'running');
      await h.service.reply('r-0', 'and now the docs');
      await h.waitFor('r-0', (t) => t.status === 'queued' && t.queue_position === 0);
      expect(g.order).toEqual(['r-0', 'r-1']); // the reply waits while r-1 holds the repository
      g.open('r-1');
      return (await finish(['r-1', 'r-0']))[1]!;
    });
    expect(g.order).toEqual(['r-0', 'r-1', 'r-0']);
    expect(final.turns.map((t) => t.status)).toEqual(['completed', 'completed']);
    expect(notifier.calls.filter((c) => c.message.taskId === 'r-0').map((c) => c.idempotencyKey)).toEqual([
      'r-0:turn-1:completion',
      'r-0:turn-2:queued',
      'r-0:turn-2:completion',
    ]);
    await admissionEnds();
  });

  test('a task paused at the usage limit holds queued tasks of other repositories until the reset', async () => {
    const notifier = new FakeNotifier();
    const turnsAt: { taskId: string; at: number }[] = [];
    let limited = 0;
    const resetInMs = 3 * 60 * 60_000;
    let resetAt = 0;
    const codex = fakeCodex(async (input) => {
      const at = await h.env.currentTimeMs();
      turnsAt.push({ taskId: input.taskId, at });
      if (input.taskId === 'q-limit' && limited++ === 0) {
        resetAt = at + resetInMs;
        return turnResult(input, {
          status: 'failed',
          finalMessage: null,
          error: { type: 'usageLimitExceeded', message: 'You’ve hit your usage limit.' },
          quota_resets_at: new Date(resetAt).toISOString(),
        });
      }
      return turnResult(input);
    });
    const other = `${h.workdir}-other`;
    fs.mkdirSync(other, { recursive: true });
    const finals = await withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
      await start(0, { task_id: 'q-limit' });
      await h.waitFor('q-limit', (t) => t.status === 'waiting_for_quota');
      // Another repository, a free slot: without the pause it would start at once.
      await start(1, { task_id: 'q-held', cwd: other });
      await h.waitFor('q-held', (t) => t.status === 'queued' && t.queue_position === 0);
      return [await h.result('q-limit'), await h.result('q-held')];
    });
    expect(finals.map((t) => t.status)).toEqual(['completed', 'completed']);
    const held = turnsAt.filter((t) => t.taskId === 'q-held');
    expect(held).toHaveLength(1);
    expect(held[0]!.at).toBeGreaterThanOrEqual(resetAt);
    expect(notifier.calls.filter((c) => c.message.taskId === 'q-held').map((c) => c.message.kind)).toEqual([
      'queued',
      'completion',
    ]);
    await admissionEnds();
  });

  test('a holder that is terminated does not block the queue: its slot is freed when the holders are checked', async () => {
    const notifier = new FakeNotifier();
    // The holder waits for its usage limit (a durable timer) when it is terminated: the test server
    // stops skipping time for good once a terminated workflow leaves a running activity behind.
    const codex = fakeCodex(async (input) =>
      input.taskId === 'leak-0'
        ? turnResult(input, {
            status: 'failed',
            finalMessage: null,
            error: { type: 'usageLimitExceeded', message: 'You’ve hit your usage limit.' },
            quota_resets_at: new Date((await h.env.currentTimeMs()) + 60 * 60_000).toISOString(),
          })
        : turnResult(input),
    );
    const final = await withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
      await start(0, { task_id: 'leak-0' });
      await h.waitFor('leak-0', (t) => t.status === 'waiting_for_quota');
      await start(1, { task_id: 'leak-1' });
      await h.waitFor('leak-1', (t) => t.status === 'queued');
      await h.env.client.workflow.getHandle('leak-0').terminate('gone without giving its slot back');
      return h.result('leak-1');
    });
    expect(final.status).toBe('completed');
    expect(codex.inputs.map((i) => i.taskId)).toEqual(['leak-0', 'leak-1']);
    await admissionEnds();
  });

  async function waitForStore(taskId: string, predicate: (t: TaskDocument) => boolean): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const doc = await h.store.get(taskId);
      if (doc && predicate(doc)) return;
      if (Date.now() > deadline) throw new Error(`the mirror of ${taskId} never matched: ${JSON.stringify(doc)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});
