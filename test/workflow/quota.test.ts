// A turn that fails on Codex's usage limit, in the time-skipping test server: the task waits as
// `waiting_for_quota` on a durable timer until the reset hours later, its person is told once,
// and the turn runs again and completes. Also the pure parts: reading Codex's reset time, and
// when to try again.
import { parseUsageLimitReset, withQuotaReset } from '../../activities/codex/usage-limit';
import { CodexTaskStatusKey } from '../../src/contract/search-attributes';
import type { CodexTurnInput } from '../../src/contract/codex-turn';
import { MIN_QUOTA_WAIT_MS, quotaResumeTime } from '../../workflows/quota';
import { FakeNotifier } from '../support/fake-notifier';
import { fakeCodex, turnResult } from '../support/fake-codex';
import { createWorkflowHarness, type WorkflowHarness } from '../support/workflow-harness';

const USAGE_MESSAGE = (at: string) =>
  `You’ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), visit https://chatgpt.com/settings/usage to purchase more credits or try again at ${at}.`;

describe('reading the reset time Codex names', () => {
  const now = new Date(2026, 10, 29, 22, 20, 30); // local time, as the app-server formats it
  test('a time today is the end of that minute', () => {
    expect(parseUsageLimitReset(USAGE_MESSAGE('10:21 PM'), now)).toEqual(new Date(2026, 10, 29, 22, 22, 0));
  });
  test('a time already past today is tomorrow; the current minute is still today', () => {
    expect(parseUsageLimitReset(USAGE_MESSAGE('9:05 AM'), now)).toEqual(new Date(2026, 10, 30, 9, 6, 0));
    expect(parseUsageLimitReset(USAGE_MESSAGE('10:20 PM'), now)).toEqual(new Date(2026, 10, 29, 22, 21, 0));
  });
  test('a time with a date', () => {
    expect(parseUsageLimitReset(USAGE_MESSAGE('Dec 3rd, 2026 2:05 PM'), now)).toEqual(new Date(2026, 11, 3, 14, 6, 0));
  });
  test('no time: null, and the result says the reset is unknown', () => {
    expect(parseUsageLimitReset('Usage limit reached', now)).toBeNull();
    const input = { taskId: 't', turn: 1, prompt: 'p' } as CodexTurnInput;
    const failed = turnResult(input, {
      status: 'failed',
      error: { type: 'rateLimitExceeded', message: 'Rate limit reached' },
    });
    expect(withQuotaReset(failed).quota_resets_at).toBeNull();
    expect(withQuotaReset(turnResult(input)).quota_resets_at).toBeUndefined();
  });
});

describe('when to try again', () => {
  const failed = (quota_resets_at: string | null | undefined) => ({
    status: 'failed' as const,
    result: {
      ...turnResult({ taskId: 't', turn: 1, prompt: 'p' } as CodexTurnInput),
      status: 'failed' as const,
      quota_resets_at,
    },
    error: { type: 'usageLimitExceeded', message: 'x' },
  });
  test('at the reset; after the back-off without one; soon when the reset is already past; never for other failures', () => {
    expect(quotaResumeTime(failed('2026-11-30T14:05:00.000Z'), Date.parse('2026-11-30T10:00:00Z'))).toBe(
      Date.parse('2026-11-30T14:05:00Z'),
    );
    expect(quotaResumeTime(failed(null), 1_000, 60_000)).toBe(61_000);
    expect(quotaResumeTime(failed('2026-11-30T09:00:00.000Z'), Date.parse('2026-11-30T10:00:00Z'))).toBe(
      Date.parse('2026-11-30T10:00:00Z') + MIN_QUOTA_WAIT_MS,
    );
    expect(quotaResumeTime(failed(undefined), 0)).toBeNull();
  });
});

describe('in the time-skipping test server', () => {
  let h: WorkflowHarness;
  beforeAll(async () => {
    // With admission on, the paused turn also pauses the admission queue until the reset.
    h = await createWorkflowHarness({ CODEX_BRIDGE_ADMISSION: 'on' });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Fails on the usage limit `times` times (reset hours ahead in workflow time), then completes. */
  function limitedCodex(times: number, resetInMs: number) {
    let calls = 0;
    return fakeCodex(async (input) => {
      calls += 1;
      if (calls > times) return turnResult(input);
      const resetsAt = new Date((await h.env.currentTimeMs()) + resetInMs).toISOString();
      return turnResult(input, {
        status: 'failed',
        finalMessage: null,
        error: { type: 'usageLimitExceeded', message: USAGE_MESSAGE('later') },
        quota_resets_at: resetsAt,
      });
    });
  }

  test('a usage limit resetting in 3 hours pauses the task, tells the person once, and the turn completes after the reset', async () => {
    const notifier = new FakeNotifier();
    const codex = limitedCodex(2, 3 * 60 * 60_000);
    const wallStart = Date.now();
    const { paused, final, attribute } = await h.withWorker(
      { runCodexTurn: codex, notifier: notifier.notifier },
      async () => {
        const { task_id } = await h.service.start({
          prompt: 'Refactor the parser',
          cwd: h.workdir,
          notify_target: 'feishu:oc_quota',
        });
        const paused = await h.waitFor(task_id, (t) => t.status === 'waiting_for_quota');
        const attribute = (await h.env.client.workflow.getHandle(task_id).describe()).typedSearchAttributes.get(
          CodexTaskStatusKey,
        );
        return { paused, attribute, final: await h.result(task_id) };
      },
    );
    expect(paused.resumes_at).toEqual(expect.any(String));
    expect(Date.parse(paused.resumes_at!) - Date.parse(paused.updated_at)).toBeGreaterThan(2.9 * 60 * 60_000);
    expect(attribute).toBe('waiting_for_quota');
    expect(final.status).toBe('completed');
    expect(final.resumes_at).toBeNull();
    expect(final.result?.final_message).toBe('Done: Refactor the parser');
    expect(codex.inputs).toHaveLength(3); // limit, limit again after the first reset, then done
    // One pause message (the second pause is silent), then the completion.
    expect(notifier.calls.map((c) => c.message.kind)).toEqual(['quota_paused', 'completion']);
    const until = new Date(paused.resumes_at!);
    const hhmm = `${String(until.getHours()).padStart(2, '0')}:${String(until.getMinutes()).padStart(2, '0')}`;
    expect(notifier.calls[0]!.message.title).toBe(
      `⏸ Codex task ${final.task_id} paused until ${hhmm} — Codex usage limit`,
    );
    expect(notifier.calls[0]!.idempotencyKey).toBe(`${final.task_id}:turn-1:quota-paused`);
    expect(Date.now() - wallStart).toBeLessThan(60_000);
    expect(await h.store.get(final.task_id)).toEqual(final);
  });

  test('a task waiting for quota can be cancelled: it ends cancelled and is told once more', async () => {
    const notifier = new FakeNotifier();
    const codex = limitedCodex(5, 5 * 60 * 60_000);
    const final = await h.withWorker({ runCodexTurn: codex, notifier: notifier.notifier }, async () => {
      const { task_id } = await h.service.start({ prompt: 'p', cwd: h.workdir, notify_target: 'local' });
      await h.waitFor(task_id, (t) => t.status === 'waiting_for_quota');
      await h.service.cancel(task_id);
      return h.result(task_id);
    });
    expect(final.status).toBe('cancelled');
    expect(codex.inputs).toHaveLength(1);
    expect(notifier.calls.map((c) => c.message.kind)).toEqual(['quota_paused', 'completion']);
  });
});
