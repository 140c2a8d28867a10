// Milestones end to end, for a channel that cannot edit: the REAL codex binary with a paced scripted
// model that keeps a plan (update_plan) through a 30-second turn, the real workflow and worker, the
// REAL Hermes gateway (the README's deliver-only Telegram route) and a fake Telegram Bot API behind
// it. Off by default: the chat gets the completion only. On (CODEX_BRIDGE_MILESTONES=hermes, a short
// interval): a few separate messages while the turn runs, bounded, in order, all before the one
// completion message, none after it.
import { CHAT_NOT_FOUND, telegramPlainText, type TelegramMessage } from '../support/fake-telegram';
import { startRealHermesGateway, type RealHermesGateway } from '../support/real-hermes-gateway';
import type { ScriptedItem, ScriptStep } from '../support/scripted-model';
import { createE2eHarness, type E2eHarness } from './support/e2e-harness';

const MAX = 3;

let gw: RealHermesGateway;
let h: E2eHarness;

beforeAll(async () => {
  gw = await startRealHermesGateway();
  // The file's own configuration leaves milestones at their default (off).
  h = await createE2eHarness({ env: { HERMES_WEBHOOK_URL: gw.routeUrl, HERMES_WEBHOOK_SECRET: gw.secret } });
}, 180_000);

afterAll(async () => {
  await h?.close();
  await gw?.stop();
}, 60_000);

afterEach(() => gw.telegram.behave({ kind: 'ok' }));

type Status = 'pending' | 'in_progress' | 'completed';
const STEPS = ['read the code', 'change it', 'run the tests'];

/** A plan of three steps, `done` of them completed and the next one in progress. */
function plan(done: number): ScriptedItem[] {
  return [
    {
      type: 'update_plan',
      plan: STEPS.map((step, i) => ({
        step,
        status: (i < done ? 'completed' : i === done ? 'in_progress' : 'pending') as Status,
      })),
    },
  ];
}

/** About `thinkMs` per model call: plan, two commands per step with the plan kept current, then the answer. */
function pacedPlanRoute(name: string, thinkMs: number) {
  const script: ScriptStep[] = [{ delayMs: thinkMs, items: plan(0) }];
  STEPS.forEach((_, i) => {
    for (const part of ['a', 'b'])
      script.push({
        delayMs: thinkMs,
        items: [{ type: 'exec_command', cmd: `echo step-${i + 1}${part}`, callId: `call_${name}_${i + 1}${part}` }],
      });
    script.push({ delayMs: thinkMs, items: plan(i + 1) });
  });
  script.push({ delayMs: thinkMs, items: [{ type: 'message', text: 'All three steps done.', phase: 'final_answer' }] });
  return h.model.route(name, script);
}

const text = (m: TelegramMessage) => telegramPlainText(m.text);

/**
 * Runs one task with the plan route on a worker of its own (its own task queue, `env` added) and
 * waits until it ended and its completion was sent; then gives a late message time to arrive.
 * Codex's plan tool is switched on: the mock model's catalog entry leaves update_plan off, which
 * Codex then answers "unsupported call".
 */
async function runPlanTask(name: string, chat: string, thinkMs: number, env: NodeJS.ProcessEnv = {}) {
  const { config, service } = h.variant({
    TEMPORAL_TASK_QUEUE: `${h.config.temporal.taskQueue}-${name}`,
    CODEX_BRIDGE_CODEX_CONFIG: JSON.stringify([...h.codex.configOverrides, 'tools.update_plan={enabled=true}']),
    ...env,
  });
  const worker = await h.startWorker({ config });
  try {
    const route = pacedPlanRoute(name, thinkMs);
    const { task_id } = await service.start({
      prompt: `Work through the plan ${route.tag}`,
      cwd: h.workdir(name),
      notify_target: `hermes:telegram:${chat}`,
    });
    const final = await h.result(task_id);
    expect(final.status).toBe('completed');
    expect(final.notification_status).toBe('sent');
    expect(final.notification_attempts).toBe(1);
    const doneAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 3000)); // anything late would arrive now
    return { config, task_id, doneAt };
  } finally {
    await worker.stop();
  }
}

test('off by default: a turn that completes plan steps tells the Hermes chat only its result', async () => {
  const chat = '-100501';
  const { config, task_id } = await runPlanTask('quiet', chat, 800); // CODEX_BRIDGE_MILESTONES unset
  expect(config.notifiers.milestones.channels).toEqual([]);
  // Codex did keep a plan: the milestones would have had steps to tell.
  const events = (await h.store.events().get(task_id))?.events ?? [];
  expect(events.filter((e) => e.kind === 'plan_updated').map((e) => e.text)).toContain('plan: 3/3 steps done');
  const messages = gw.telegram.delivered(chat).map(text);
  expect(messages).toHaveLength(1);
  expect(messages[0]).toMatch(/completed/);
}, 120_000);

test('on: a 30-second turn sends a bounded number of milestones, in order, all before its one completion', async () => {
  const chat = '-100502';
  // 10 model calls: about 33 s.
  const { task_id, doneAt } = await runPlanTask('loud', chat, 3300, {
    CODEX_BRIDGE_MILESTONES: 'hermes',
    CODEX_BRIDGE_MILESTONE_INTERVAL: '10s',
    CODEX_BRIDGE_MILESTONE_MAX: String(MAX),
  });
  const delivered = gw.telegram.delivered(chat);
  const completion = delivered.filter((m) => /completed/.test(text(m)) && /All three steps done/.test(text(m)));
  expect(completion).toHaveLength(1);
  // The completion is the last message: no milestone after it, nothing after the task ended.
  expect(delivered[delivered.length - 1]).toBe(completion[0]);
  expect(delivered.every((m) => m.receivedAt <= doneAt)).toBe(true);

  const milestones = delivered.slice(0, -1).map(text);
  // Three plan steps complete and at least one interval passes: more than the bound would be
  // told, so exactly the bound is.
  expect(milestones).toHaveLength(MAX);
  expect(milestones.every((m) => m.startsWith(`⏳ Codex task ${task_id}`))).toBe(true);
  console.log(`milestones: ${milestones.map((m) => m.split('\n')[0]).join(' | ')}`);
  // Both kinds: steps as they complete, in order, and "still working" once an interval passed
  // without one (the first step completes about 13 s in, after the 10 s interval).
  const steps = milestones.map((m) => /step (\d)\/3 done/.exec(m)?.[1]).filter((s) => s !== undefined);
  expect(steps.length).toBeGreaterThanOrEqual(1);
  expect(steps).toEqual([...new Set(steps)].sort());
  expect(milestones.filter((m) => / still working after \d+ s/.test(m)).length).toBeGreaterThanOrEqual(1);
  expect(milestones.every((m) => /\d+ commands? run, \d+ files? changed/.test(m))).toBe(true);
  expect(milestones.find((m) => /step 1\/3 done/.test(m))).toMatch(/2 commands run[\s\S]*now: change it/);
}, 150_000);

test('a milestone the platform refuses is lost, not retried, and changes nothing about the completion', async () => {
  const chat = '-100503';
  gw.telegram.behave(CHAT_NOT_FOUND, 1); // the first milestone
  await runPlanTask('refused', chat, 1200, {
    CODEX_BRIDGE_MILESTONES: 'hermes',
    CODEX_BRIDGE_MILESTONE_INTERVAL: '10s',
  });
  const refused = gw.telegram.messages.filter((m) => m.chatId === chat && !m.outcome.ok);
  expect(refused.map(text)).toEqual([expect.stringMatching(/step 1\/3 done/)]);
  const delivered = gw.telegram.delivered(chat).map(text);
  expect(delivered.filter((m) => /step 1\/3 done/.test(m))).toEqual([]); // not sent again
  expect(delivered.filter((m) => /step \d\/3 done/.test(m)).length).toBeGreaterThanOrEqual(1);
  expect(delivered[delivered.length - 1]).toMatch(/All three steps done/);
}, 120_000);
