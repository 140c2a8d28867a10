// One progress message per turn, end to end with the REAL codex binary, a paced scripted model and
// the fake Feishu: the turn's card is sent once, edited in place at a bounded rate while Codex
// works, and ends as the result card; the completion is delivered exactly once, also when Feishu
// rate-limits the edits.
import { createE2eHarness, type E2eHarness, type InProcessWorker } from './support/e2e-harness';
import type { ScriptStep } from '../support/scripted-model';
import type { FeishuEdit } from '../support/fake-feishu';

let h: E2eHarness;
let worker: InProcessWorker;

beforeAll(async () => {
  h = await createE2eHarness(); // CODEX_BRIDGE_PROGRESS defaults to feishu, one edit every 3 s at most
  worker = await h.startWorker();
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await h?.close();
}, 60_000);

/** `steps` commands, each after the model thought for `thinkMs`, then the final answer. */
function pacedRoute(name: string, steps: number, thinkMs: number) {
  const script: ScriptStep[] = Array.from({ length: steps }, (_, i) => ({
    delayMs: thinkMs,
    items: [{ type: 'exec_command' as const, cmd: `echo step-${i + 1}`, callId: `call_${name}_${i + 1}` }],
  }));
  script.push({
    delayMs: thinkMs,
    items: [{ type: 'message', text: `All ${steps} steps done.`, phase: 'final_answer' }],
  });
  return h.model.route(name, script);
}

const cardText = (content: unknown): string => JSON.stringify(content);

/** The most edits taken within any one second. */
function peakPerSecond(edits: FeishuEdit[]): number {
  return Math.max(0, ...edits.map((e) => edits.filter((o) => o.at >= e.at && o.at - e.at < 1000).length));
}

test('a 30-second turn shows one card, edited in place at a bounded rate, that ends as the result card', async () => {
  const route = pacedRoute('card', 6, 4300);
  const chat = 'oc_progress';
  const { task_id } = await h.service.start({
    prompt: `Run the steps ${route.tag}`,
    cwd: h.workdir('card'),
    notify_target: `feishu:${chat}`,
  });
  const final = await h.result(task_id);
  expect(final.status).toBe('completed');
  expect(final.notification_status).toBe('sent');

  // One message in the chat for the turn: the progress card, which became the result.
  const messages = h.feishu.messagesTo(chat);
  expect(messages).toHaveLength(1);
  const edits = h.feishu.editsOf(messages[0]!.messageId);
  const progress = edits.slice(0, -1);
  const last = edits[edits.length - 1]!;
  const sends = h.feishu.sendRequests().filter((r) => (r.body as { receive_id?: string }).receive_id === chat);
  expect((sends[0]!.body as { content: string }).content).toContain('running'); // sent as a progress card
  expect(progress.length).toBeGreaterThanOrEqual(4); // followed the work while it ran
  expect(progress.every((e) => cardText(e.content).includes(`${task_id} · turn 1 running`))).toBe(true);
  expect(progress.some((e) => cardText(e.content).includes('echo step-3'))).toBe(true);
  // At most one progress edit every 3 s (the throttle; the margin absorbs request latency), far
  // inside Feishu's 5 per second.
  const gaps = progress.slice(1).map((e, i) => e.at - progress[i]!.at);
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(2500);
  expect(peakPerSecond(edits)).toBeLessThanOrEqual(2);
  // It ends as the result card: the completion, delivered once.
  expect(cardText(last.content)).toContain('completed');
  expect(cardText(last.content)).toContain('All 6 steps done.');
  expect(cardText(last.content)).not.toContain('running');
  console.log(
    `progress card: ${edits.length} edits over ${Math.round((last.at - edits[0]!.at) / 1000)} s, smallest gap ${Math.min(...gaps)} ms`,
  );
});

test('Feishu rate-limiting the edits changes nothing about the completion: one message, one result', async () => {
  const route = pacedRoute('limited', 3, 2500);
  const chat = 'oc_limited';
  // Every edit is refused for a while (as Feishu does to a message edited too often): the progress
  // edits are lost, and the completion's edit is retried until Feishu takes it.
  h.feishu.failNextEdits(6, { kind: 'rate_limit', resetSeconds: 1 });
  const { task_id } = await h.service.start({
    prompt: `Run the steps ${route.tag}`,
    cwd: h.workdir('limited'),
    notify_target: `feishu:${chat}`,
  });
  const final = await h.result(task_id);
  expect(final.status).toBe('completed');
  expect(final.notification_status).toBe('sent');
  const messages = h.feishu.messagesTo(chat);
  expect(messages).toHaveLength(1);
  expect(cardText(messages[0]!.content)).toContain('All 3 steps done.');
  expect(cardText(messages[0]!.content)).toContain('completed');
  // The result was taken once it was sent; nothing edited the card after it.
  const edits = h.feishu.editsOf(messages[0]!.messageId);
  expect(cardText(edits[edits.length - 1]!.content)).toContain('All 3 steps done.');
  // Every refusal was used up, the completion's own edit included: it was retried, not dropped.
  expect(h.feishu.requests.filter((r) => r.method === 'PATCH' && r.status === 429)).toHaveLength(6);
  expect(final.notification_attempts).toBeGreaterThan(1);
});

test('a webhook target gets progress events under the message key its one completion carries too', async () => {
  const route = pacedRoute('hook', 3, 2500);
  const { task_id } = await h.service.start({
    prompt: `Run the steps ${route.tag}`,
    cwd: h.workdir('hook'),
    notify_target: `webhook:${h.webhook.url('/progress-hook')}`,
  });
  const final = await h.result(task_id);
  expect(final.notification_status).toBe('sent');
  const received = h.webhook.requests.filter((r) => r.path === '/progress-hook');
  expect(received.every((r) => r.signatureValid === true)).toBe(true);
  const progress = received
    .map((r) => r.body as { event: string; message_key: string; seq: number; progress: { commands: string[] } })
    .filter((b) => b.event === 'codex_bridge.progress');
  const completions = h.webhook.deliveredTo('/progress-hook').filter((d) => d.body.kind === 'completion');
  expect(completions).toHaveLength(1);
  expect(progress.length).toBeGreaterThanOrEqual(2);
  expect(new Set(progress.map((p) => p.message_key))).toEqual(new Set([`${task_id}:turn-1:progress`]));
  expect(completions[0]!.body.message_key).toBe(`${task_id}:turn-1:progress`);
  expect(progress.map((p) => p.seq)).toEqual([...progress.map((p) => p.seq)].sort((a, b) => a - b));
  expect(progress.some((p) => p.progress.commands.some((c) => c.includes('echo step-2')))).toBe(true);
  const times = received
    .filter((r) => (r.body as { event: string }).event === 'codex_bridge.progress')
    .map((r) => r.receivedAt);
  expect(Math.min(...times.slice(1).map((t, i) => t - times[i]!))).toBeGreaterThanOrEqual(2500);
});
