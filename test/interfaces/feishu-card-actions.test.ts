// Card button clicks answered by the bridge, without a server: the Feishu card a question with
// choices produces carries one button per choice, and a click on one sends the same `answer`
// the CLI sends; an approval button sends `approve`; a click the service refuses (a stale card)
// replaces the card with the reason; a button that is not ours changes nothing.
import { answerCardAction } from '../../src/api/feishu-card-callback';
import { buildCard } from '../../activities/notify/feishu-message';
import { buildNotificationMessage } from '../../activities/notify/message';
import { FakeTaskService, makeTaskDocument } from './support/fake-task-service';
import { requestView } from '../notify/support/views';

type Card = { elements: { tag: string; actions?: { text: { content: string }; value: Record<string, string> }[] }[] };
const buttonsOf = (card: Record<string, unknown>) =>
  (card as Card).elements.filter((e) => e.tag === 'action').flatMap((e) => e.actions ?? []);

function serviceWithPending(requestId: string) {
  const service = new FakeTaskService();
  service.tasks.set(
    't1',
    makeTaskDocument({
      task_id: 't1',
      status: 'waiting_for_input',
      pending_requests: [
        { request_id: requestId, kind: 'user_input', summary: 'Which?', created_at: '2026-01-01T00:00:00.000Z' },
      ],
    }),
  );
  return service;
}

test('a question with choices gets one button per choice; a click answers it with that choice, once', async () => {
  const view = requestView({
    task_id: 't1',
    request: {
      request_id: 'req-q',
      kind: 'user_input',
      summary: 'Which database?',
      options: [
        { question_id: 'db', label: 'Postgres' },
        { question_id: 'db', label: 'SQLite' },
      ],
    },
  });
  const buttons = buttonsOf(buildCard(buildNotificationMessage(view)));
  expect(buttons.map((b) => b.text.content)).toEqual(['Postgres', 'SQLite']);
  expect(buttons[1]!.value).toEqual({ task_id: 't1', request_id: 'req-q', question_id: 'db', answer: 'SQLite' });

  const service = serviceWithPending('req-q');
  const first = await answerCardAction(service, {
    operator: { open_id: 'ou_1', user_id: 'erin' },
    action: { value: buttons[1]!.value },
  });
  expect(first.toast).toEqual({ type: 'success', content: 'Answered: "SQLite"' });
  expect(JSON.stringify(first.card.data)).toContain('erin answered \\"SQLite\\" to request req-q');
  expect(service.callsOf('answer')).toEqual([['t1', 'req-q', { db: ['SQLite'] }]]);

  const again = await answerCardAction(service, {
    operator: { open_id: 'ou_2' },
    action: { value: buttons[0]!.value },
  });
  expect(again.toast.type).toBe('error');
  expect(JSON.stringify(again.card.data)).toContain('Request req-q of task t1 can no longer be answered');
});

test('an approval button approves with its decision; a button that is not ours changes nothing', async () => {
  const service = serviceWithPending('req-a');
  const ok = await answerCardAction(service, {
    action: { value: { task_id: 't1', request_id: 'req-a', decision: 'decline' } },
  });
  expect(ok.toast.content).toBe('Answered: decline');
  expect(service.callsOf('approve')).toEqual([['t1', 'req-a', 'decline']]);
  for (const value of [undefined, { task_id: 't1', request_id: 'req-a', decision: 'maybe' }, { task_id: 't1' }]) {
    const refused = await answerCardAction(service, { action: { value } });
    expect(refused.toast).toEqual({ type: 'error', content: 'This button does not answer a codex-bridge request.' });
  }
  expect(service.callsOf('approve')).toHaveLength(1);
});
