// The task's state changes as plain functions and the TaskState class that applies them: no
// Temporal server, no workflow sandbox.
import { ActivityFailure, ApplicationFailure, CancelledFailure, RetryState, TimeoutFailure } from '@temporalio/common';
import { newTaskDocument, type CodexRequest, type TaskDocument } from '../../src/contract/task';
import { TaskState } from '../../workflows/task-state';
import {
  cancelledWhileDelivering,
  classifyTurnFailure,
  deliveryFailure,
  expiredAnswer,
  findRepeatedRequest,
  finishTurn,
  notificationFinished,
  repeatKey,
  startTurn,
  turnOutcome,
} from '../../workflows/task-transitions';
import { turnResult } from '../support/fake-codex';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:01:00.000Z';

function queued(): TaskDocument {
  return newTaskDocument({
    task_id: 't1',
    prompt: 'p',
    cwd: '/repo',
    model: null,
    sandbox: 'workspace-write',
    approval_policy: 'untrusted',
    notify_target: 'local',
    created_at: T0,
  });
}

const activityFailure = (cause: Error) =>
  new ActivityFailure('activity failed', 'runCodexTurn', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'worker', cause);

describe('a turn', () => {
  test('starting one runs the task again and adds a turn record', () => {
    const finished: TaskDocument = {
      ...queued(),
      status: 'completed',
      notification_status: 'sent',
      notified_at: T0,
      notification_attempts: 2,
      started_at: T0,
    };
    const next = startTurn(finished, 'again', T1);
    expect(next).toMatchObject({
      status: 'running',
      started_at: T0,
      notification_status: null,
      notified_at: null,
      notification_attempts: 0,
    });
    expect(next.turns).toEqual([
      expect.objectContaining({ turn: 1, prompt: 'again', status: 'running', started_at: T1 }),
    ]);
    expect(finished.turns).toEqual([]); // the input is left alone
  });

  test('finishing one gives the task the outcome, on the task and on the turn record', () => {
    const running = {
      ...startTurn(queued(), 'p', T0),
      pending_requests: [{ request_id: 'r', kind: 'user_input' as const, summary: 's', created_at: T0 }],
    };
    const result = turnResult(
      {
        taskId: 't1',
        turn: 1,
        prompt: 'p',
        cwd: '/repo',
        model: null,
        sandbox: 'workspace-write',
        approvalPolicy: 'never',
        threadId: null,
        timeoutMs: 1,
        serverRequestPolicy: 'decline',
      },
      { commands: [{ command: 'ls', exit_code: 0, status: 'completed', output: '', duration_ms: 1 }] },
    );
    const done = finishTurn(running, turnOutcome(result), T1);
    expect(done).toMatchObject({ status: 'completed', finished_at: T1, pending_requests: [], error: null });
    expect(done.result?.summary).toBe('completed · 1 command · Done: p');
    expect(done.turns[0]).toMatchObject({ status: 'completed', finished_at: T1, result: done.result });
  });

  test('an interrupted turn cancels the task', () => {
    const result = turnResult(
      {
        taskId: 't1',
        turn: 1,
        prompt: 'p',
        cwd: '/',
        model: null,
        sandbox: 'read-only',
        approvalPolicy: 'never',
        threadId: null,
        timeoutMs: 1,
        serverRequestPolicy: 'decline',
      },
      { status: 'interrupted' },
    );
    expect(turnOutcome(result).status).toBe('cancelled');
  });
});

describe('a turn failure is classified by type', () => {
  const context = { cancelRequested: false, turnTimeoutMs: 90_000 };

  test('a cancellation, or any failure after a cancel was asked for, is cancelled', () => {
    expect(classifyTurnFailure(new CancelledFailure('x'), context).status).toBe('cancelled');
    expect(classifyTurnFailure(new Error('boom'), { ...context, cancelRequested: true }).status).toBe('cancelled');
  });

  test('a heartbeat timeout on the last attempt is a lost worker', () => {
    const outcome = classifyTurnFailure(activityFailure(new TimeoutFailure('hb', undefined, 'HEARTBEAT')), context);
    expect(outcome).toMatchObject({ status: 'failed', error: { type: 'CodexWorkerLost' } });
  });

  test('any other timeout is timed_out, with the turn timeout in the message', () => {
    const outcome = classifyTurnFailure(
      activityFailure(new TimeoutFailure('s2c', undefined, 'START_TO_CLOSE')),
      context,
    );
    expect(outcome).toEqual({
      status: 'timed_out',
      result: null,
      error: { type: 'TimedOut', message: 'Codex did not finish within 90 s.' },
    });
  });

  test('an application failure keeps its type and message; anything else is CodexActivityFailed', () => {
    const typed = classifyTurnFailure(
      activityFailure(ApplicationFailure.nonRetryable('no such dir', 'CwdMissing')),
      context,
    );
    expect(typed).toEqual({ status: 'failed', result: null, error: { type: 'CwdMissing', message: 'no such dir' } });
    expect(classifyTurnFailure(new Error('odd'), context).error).toEqual({
      type: 'CodexActivityFailed',
      message: 'odd',
    });
  });
});

describe('the notification', () => {
  test('a delivery outcome lands on the task and its turn', () => {
    const running = startTurn(queued(), 'p', T0);
    expect(notificationFinished(running, { ok: true, at: T1, attempts: 3 })).toMatchObject({
      notification_status: 'sent',
      notified_at: T1,
      notification_attempts: 3,
      turns: [{ notification_status: 'sent', notified_at: T1 }],
    });
    expect(notificationFinished(running, { ok: false, error: 'bot not in chat', attempts: 1 })).toMatchObject({
      notification_status: 'failed',
      notification_error: 'bot not in chat',
      turns: [{ notification_status: 'failed' }],
    });
  });

  test('a cancel during delivery turns the task cancelled', () => {
    expect(cancelledWhileDelivering(startTurn(queued(), 'p', T0))).toMatchObject({
      status: 'cancelled',
      error: { type: 'Cancelled' },
      turns: [{ status: 'cancelled' }],
    });
  });

  test('a failed delivery reports the attempt from its details, and a deadline in words', () => {
    const rejected = activityFailure(
      ApplicationFailure.create({
        message: 'bot not in chat',
        type: 'NotificationRejected',
        details: [{ attempt: 4 }],
      }),
    );
    expect(deliveryFailure(rejected)).toEqual({ ok: false, error: 'bot not in chat', attempts: 4 });
    expect(deliveryFailure(activityFailure(new TimeoutFailure('late', undefined, 'SCHEDULE_TO_CLOSE')))).toEqual({
      ok: false,
      error: 'delivery kept failing until its deadline passed',
      attempts: 0,
    });
  });
});

describe("a retried attempt's repeated request", () => {
  const first: CodexRequest = {
    request_id: 't1-t1-r1',
    kind: 'command_approval',
    summary: 'Run ls',
    details: '$ ls',
    attempt: 1,
  };

  test('matches the earlier request asked word for word, once per attempt', () => {
    const again: CodexRequest = { ...first, request_id: 't1-t1-a2-r1', attempt: 2 };
    expect(findRepeatedRequest([first], again, new Set())).toBe(first);
    expect(
      findRepeatedRequest([first], { ...again, request_id: 't1-t1-a2-r2' }, new Set([repeatKey(again, first)])),
    ).toBeUndefined();
  });

  test('does not match in the first attempt, or when anything differs', () => {
    expect(findRepeatedRequest([first], { ...first, request_id: 'other' }, new Set())).toBeUndefined();
    expect(
      findRepeatedRequest([first], { ...first, request_id: 'x', attempt: 2, details: '$ ls -la' }, new Set()),
    ).toBeUndefined();
  });
});

describe('TaskState', () => {
  function state(): { state: TaskState; published: TaskDocument[] } {
    const published: TaskDocument[] = [];
    const s = new TaskState(queued(), (st) => published.push(st.task));
    s.startTurn('p');
    return { state: s, published };
  }

  test('every change bumps the version and is published', () => {
    const { state: s, published } = state();
    s.notificationStarted();
    expect(published.map((d) => [d.version, d.status, d.notification_status])).toEqual([
      [1, 'running', null],
      [2, 'running', 'pending'],
    ]);
  });

  test('a request waits for a person; the first answer counts and the task runs again', () => {
    const { state: s } = state();
    const request: CodexRequest = {
      request_id: 'r1',
      kind: 'command_approval',
      summary: 'Run ls',
      details: '$ ls',
      attempt: 1,
    };
    expect(s.receiveRequest(request)).toEqual({ answerId: 'r1', isNew: true });
    expect(s.receiveRequest(request)).toEqual({ answerId: 'r1', isNew: false });
    expect(s.task).toMatchObject({ status: 'waiting_for_input', pending_requests: [{ request_id: 'r1' }] });
    expect(() => s.checkAnswers('r1', { q: ['a'] })).toThrow('is an approval');
    s.answerRequest('r1', { decision: 'accept', answered_by: 'person' });
    s.answerRequest('r1', { decision: 'decline', answered_by: 'person' });
    expect(s.answerOf('r1')).toEqual({ decision: 'accept', answered_by: 'person' });
    expect(s.task).toMatchObject({ status: 'running', pending_requests: [] });
    expect(() => s.checkApproval('r1', 'accept')).toThrow('has already been answered');
  });

  test("a retried attempt's repeat gets the earlier request's answer and is not asked again", () => {
    const { state: s } = state();
    s.receiveRequest({ request_id: 'r1', kind: 'user_input', summary: 'Which?', details: '[q] Which?', attempt: 1 });
    const again = s.receiveRequest({
      request_id: 'r1-a2',
      kind: 'user_input',
      summary: 'Which?',
      details: '[q] Which?',
      attempt: 2,
    });
    expect(again).toEqual({ answerId: 'r1', isNew: false });
    s.answerRequest('r1', expiredAnswer('user_input'));
    expect(s.answerOf('r1-a2')).toEqual({ answers: {}, answered_by: 'deadline' });
  });

  test('the notify target is locked once delivery started', () => {
    const { state: s } = state();
    expect(() => s.checkNotifyTarget('slack:#x')).toThrow();
    s.setNotifyTarget('feishu:oc_1');
    s.notificationStarted();
    expect(() => s.checkNotifyTarget('local')).toThrow('being delivered');
  });

  test('the Web UI details name the status, the open request and the last error', () => {
    const { state: s } = state();
    s.receiveRequest({ request_id: 'r1', kind: 'command_approval', summary: 'Run ls', details: '$ ls' });
    s.notificationFinished({ ok: false, error: 'HTTP 403', attempts: 1 });
    expect(s.details()).toBe(
      [
        '**Status:** waiting_for_input (turn 1)',
        '**Notification:** failed → local',
        '**Waiting for a person:** Run ls (request r1)',
        '**Last error:** HTTP 403',
      ].join('\n\n'),
    );
  });
});
