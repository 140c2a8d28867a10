// Acting from the card, end to end with the REAL codex binary under approval policy `untrusted`:
// the Feishu approval card carries buttons; the fake Feishu sends the real, encrypted and signed
// `card.action.trigger` callback to the bridge's HTTP callback route; the click approves the
// request through the same update the CLI sends, the card then says who answered what, a second
// click on the stale card is refused and the card says so, and a forged callback changes nothing.
import type { FastifyInstance } from 'fastify';
import { buildApiServer, startApiServer } from '../../src/api/server';
import { startFeishuCardConnection } from '../../src/api/feishu-card-connection';
import { createE2eHarness, eventually, type E2eHarness, type InProcessWorker } from './support/e2e-harness';

const ENCRYPT_KEY = 'e2e-encrypt-key';
const VERIFICATION_TOKEN = 'e2e-verification-token';

let h: E2eHarness;
let worker: InProcessWorker;
let app: FastifyInstance;
let callbackUrl: string;

beforeAll(async () => {
  h = await createE2eHarness();
  worker = await h.startWorker();
  app = buildApiServer({
    service: h.service,
    token: 'api-token',
    feishuCallback: { encryptKey: ENCRYPT_KEY, verificationToken: VERIFICATION_TOKEN },
  });
  callbackUrl = `${await app.listen({ host: '127.0.0.1', port: 0 })}/v1/feishu/card-callback`;
}, 120_000);

afterAll(async () => {
  await app?.close();
  await worker?.stop();
  await h?.close();
}, 60_000);

const text = (v: unknown) => JSON.stringify(v);

/** Waits until the task asks, and for the card (the chat's message with buttons) that asks the person. */
async function approvalCard(taskId: string, chat: string) {
  const pending = (await h.waitFor(taskId, (d) => d.pending_requests.length === 1)).pending_requests[0]!;
  const card = await eventually(
    () => h.feishu.messagesTo(chat).find((m) => h.feishu.buttons(m.messageId).length > 0),
    (m) => m !== undefined,
    20_000,
    'the approval card',
  );
  return { pending, card };
}

test('a click on the approval card approves the request; a second click is refused and the card says so', async () => {
  const chat = 'oc_buttons';
  const route = h.model.route('buttons', [
    { items: [{ type: 'exec_command', cmd: 'echo approved-by-button > out.txt', callId: 'call_button' }] },
    { items: [{ type: 'message', text: 'Wrote out.txt.', phase: 'final_answer' }] },
  ]);
  const { task_id } = await h.service.start({
    prompt: `Write the file ${route.tag}`,
    cwd: h.workdir('buttons'),
    notify_target: `feishu:${chat}`,
    approval_policy: 'untrusted',
  });
  const { pending, card } = await approvalCard(task_id, chat);
  const buttons = h.feishu.buttons(card!.messageId) as { task_id: string; request_id: string; decision: string }[];
  expect(buttons.map((b) => b.decision)).toEqual(['accept', 'accept_for_session', 'decline', 'cancel']);
  expect(buttons.every((b) => b.task_id === task_id && b.request_id === pending.request_id)).toBe(true);

  // A forged callback (signed with another key) is refused before anything is looked at.
  const forged = await h.feishu.click({
    callbackUrl,
    encryptKey: ENCRYPT_KEY,
    signWith: 'not-the-key',
    verificationToken: VERIFICATION_TOKEN,
    messageId: card!.messageId,
    value: buttons[0],
    operator: { open_id: 'ou_mallory' },
  });
  expect(forged.status).toBe(401);
  expect((await h.service.status(task_id)).pending_requests).toHaveLength(1);

  const accept = buttons.find((b) => b.decision === 'accept');
  const first = await h.feishu.click({
    callbackUrl,
    encryptKey: ENCRYPT_KEY,
    verificationToken: VERIFICATION_TOKEN,
    messageId: card!.messageId,
    value: accept,
    operator: { open_id: 'ou_alice', user_id: 'alice' },
  });
  expect(first.status).toBe(200);
  expect(first.answer.toast).toEqual({ type: 'success', content: 'Answered: accept' });
  expect(text(h.feishu.messagesTo(chat).find((m) => m.messageId === card!.messageId)!.content)).toContain(
    `alice answered accept to request ${pending.request_id}`,
  );

  const final = await h.result(task_id);
  expect(final.status).toBe('completed');
  expect(final.result?.commands).toEqual([expect.objectContaining({ exit_code: 0 })]);

  // The same card clicked again (a stale copy): refused by the same validator, and the card says so.
  const decline = buttons.find((b) => b.decision === 'decline');
  const second = await h.feishu.click({
    callbackUrl,
    encryptKey: ENCRYPT_KEY,
    verificationToken: VERIFICATION_TOKEN,
    messageId: card!.messageId,
    value: decline,
    operator: { open_id: 'ou_bob', user_id: 'bob' },
  });
  expect(second.status).toBe(200);
  expect(second.answer.toast.type).toBe('error');
  const stale = text(h.feishu.messagesTo(chat).find((m) => m.messageId === card!.messageId)!.content);
  expect(stale).toContain(`Request ${pending.request_id} of task ${task_id} can no longer be answered`);
  expect(final.result?.final_message).toBe('Wrote out.txt.');
});

test("the callback URL echoes Feishu's verification challenge; a foreign token or a button that is not an approval changes nothing", async () => {
  const verified = await h.feishu.verifyCallbackUrl(callbackUrl, ENCRYPT_KEY, VERIFICATION_TOKEN);
  expect(verified.status).toBe(200);
  expect(verified.answer).toEqual({ challenge: expect.stringMatching(/^challenge-/) });

  const messageId = h.feishu.messages[0]!.messageId;
  const foreign = await h.feishu.click({
    callbackUrl,
    encryptKey: ENCRYPT_KEY,
    verificationToken: 'another-app',
    messageId,
    value: {},
    operator: { open_id: 'ou_x' },
  });
  expect(foreign.status).toBe(401);
  const notOurs = await h.feishu.click({
    callbackUrl,
    encryptKey: ENCRYPT_KEY,
    verificationToken: VERIFICATION_TOKEN,
    messageId,
    value: { not: 'an approval' },
    operator: { open_id: 'ou_x' },
  });
  expect(notOurs.status).toBe(200);
  expect(notOurs.answer.toast).toEqual({
    type: 'error',
    content: 'This button does not answer a codex-bridge request.',
  });
});

test("over the long connection (the SDK's WSClient): a click approves the request once; a second click is refused", async () => {
  const connection = startFeishuCardConnection({
    appId: h.feishu.appId,
    appSecret: h.feishu.appSecret,
    baseUrl: h.feishu.baseUrl,
    service: h.service,
  });
  try {
    await eventually(
      () => h.feishu.longConnections(),
      (n) => n === 1,
      20_000,
      'the long connection',
    );
    const chat = 'oc_long';
    const route = h.model.route('long', [
      { items: [{ type: 'exec_command', cmd: 'echo over-the-long-connection > out.txt', callId: 'call_long' }] },
      { items: [{ type: 'message', text: 'Done over the long connection.', phase: 'final_answer' }] },
    ]);
    const { task_id } = await h.service.start({
      prompt: `Write it ${route.tag}`,
      cwd: h.workdir('long'),
      notify_target: `feishu:${chat}`,
      approval_policy: 'untrusted',
    });
    const { pending, card } = await approvalCard(task_id, chat);
    const buttons = h.feishu.buttons(card!.messageId) as { decision: string }[];
    const first = await h.feishu.clickOverLongConnection({
      messageId: card!.messageId,
      value: buttons.find((b) => b.decision === 'accept_for_session'),
      operator: { open_id: 'ou_carol', user_id: 'carol' },
    });
    expect(first.code).toBe(200);
    expect(first.answer.toast).toEqual({ type: 'success', content: 'Answered: accept for session' });
    expect(text(h.feishu.messagesTo(chat).find((m) => m.messageId === card!.messageId)!.content)).toContain(
      `carol answered accept for session to request ${pending.request_id}`,
    );
    const final = await h.result(task_id);
    expect(final.status).toBe('completed');
    expect(final.result?.final_message).toBe('Done over the long connection.');

    const second = await h.feishu.clickOverLongConnection({
      messageId: card!.messageId,
      value: buttons.find((b) => b.decision === 'decline'),
      operator: { open_id: 'ou_dave' },
    });
    expect(second.answer.toast.type).toBe('error');
    expect(text(h.feishu.messagesTo(chat).find((m) => m.messageId === card!.messageId)!.content)).toContain(
      'can no longer be answered',
    );
  } finally {
    connection.close();
  }
});

test('serve opens the long connection when FEISHU_LONG_CONNECTION=true, and closes it with the API', async () => {
  await eventually(
    () => h.feishu.longConnections(),
    (n) => n === 0,
    10_000,
    'no long connection left open',
  );
  const { config } = h.variant({ FEISHU_LONG_CONNECTION: 'true', CODEX_BRIDGE_API_ADDR: '127.0.0.1:0' });
  const api = await startApiServer(config, { service: h.service });
  try {
    await eventually(
      () => h.feishu.longConnections(),
      (n) => n === 1,
      20_000,
      'the long connection',
    );
  } finally {
    await api.close();
  }
  await eventually(
    () => h.feishu.longConnections(),
    (n) => n === 0,
    10_000,
    'the long connection closed',
  );
});
