// Milestone messages for channels that cannot edit: off unless configured, then a few separate
// messages while a turn runs — when a plan step completes and "still working" at most every
// interval — bounded per turn, none after the turn ended, each under its own idempotency key so a
// retried attempt posts nothing twice. Through the real Hermes notifier to a fake gateway on
// loopback, and through the real local notifier into an inbox file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createProgressMessenger } from '../../activities/progress-messages';
import { createHermesNotifier } from '../../activities/notify/hermes-notifier';
import { createLocalNotifier, readInboxLines } from '../../activities/notify/local-notifier';
import type { Notifier } from '../../activities/notify/notifier';
import type { TurnEventDraft } from '../../activities/codex/turn-events';
import { loadConfig } from '../../src/config';
import { startFakeHermesGateway, type FakeHermesGateway } from '../support/fake-hermes-gateway';

const TARGET = 'hermes:telegram:-100777';
let gw: FakeHermesGateway;
let dir: string;

beforeAll(async () => {
  gw = await startFakeHermesGateway({ secret: 'milestone-secret' });
});
afterAll(async () => {
  await gw.stop();
});
beforeEach(() => {
  gw.reset();
  dir = fs.mkdtempSync(path.join(process.env.CODEX_BRIDGE_TEST_SCRATCH ?? os.tmpdir(), 'milestones-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const hermes = (): Notifier =>
  createHermesNotifier({ url: gw.routeUrl(), secret: 'milestone-secret', timeoutMs: 5000 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const plan = (done: number, total: number, now: string): TurnEventDraft => ({
  kind: 'plan_updated',
  text: `plan: ${done}/${total} steps done, now: ${now}`,
});
const command = (cmd: string): TurnEventDraft => ({
  kind: 'item_completed',
  text: `$ ${cmd} → exit 0`,
  item_type: 'commandExecution',
});
const started = (cmd: string): TurnEventDraft => ({
  kind: 'item_started',
  text: `$ ${cmd}`,
  item_type: 'commandExecution',
});
const changed = (files: string): TurnEventDraft => ({
  kind: 'item_completed',
  text: `changed ${files}`,
  item_type: 'fileChange',
});
const messagesIn = (chat: string) => gw.deliveredTo('telegram', chat).map((d) => d.message);

test('off by default: the configuration names no milestone channel, and Hermes and local targets get no sink', () => {
  const config = loadConfig({});
  expect(config.notifiers.milestones).toEqual({ channels: [], intervalMs: 5 * 60_000, maxPerTurn: 10 });
  const messenger = createProgressMessenger({ milestones: { ...config.notifiers.milestones, notifier: hermes() } });
  expect(messenger('t', 1, TARGET)).toBeNull();
  expect(messenger('t', 1, 'local')).toBeNull();
});

test('the settings are validated: channels, interval, bound', () => {
  const on = loadConfig({
    CODEX_BRIDGE_MILESTONES: 'hermes, local',
    CODEX_BRIDGE_MILESTONE_INTERVAL: '2m',
    CODEX_BRIDGE_MILESTONE_MAX: '4',
  });
  expect(on.notifiers.milestones).toEqual({ channels: ['hermes', 'local'], intervalMs: 120_000, maxPerTurn: 4 });
  expect(() => loadConfig({ CODEX_BRIDGE_MILESTONES: 'feishu' })).toThrow(
    /^CODEX_BRIDGE_MILESTONES is invalid .*hermes, local, or none/,
  );
  expect(() => loadConfig({ CODEX_BRIDGE_MILESTONE_INTERVAL: '500' })).toThrow(/^CODEX_BRIDGE_MILESTONE_INTERVAL/);
  expect(() => loadConfig({ CODEX_BRIDGE_MILESTONE_MAX: '0' })).toThrow(/^CODEX_BRIDGE_MILESTONE_MAX/);
});

test('only the configured channels, and not an opted-out target', () => {
  const messenger = createProgressMessenger({
    optOut: ['hermes:telegram:-1quiet'],
    milestones: { channels: ['hermes'], notifier: hermes() },
  });
  expect(messenger('t', 1, TARGET)).not.toBeNull();
  expect(messenger('t', 1, 'hermes:telegram:-1quiet')).toBeNull();
  expect(messenger('t', 1, 'local')).toBeNull();
});

test('Hermes: a message per completed plan step and "still working" every interval, in order, keyed by milestone number', async () => {
  const sink = createProgressMessenger({
    milestones: { channels: ['hermes'], notifier: hermes(), intervalMs: 2000 },
  })('ms-task', 2, TARGET)!;
  sink.push({ kind: 'turn_started', text: 'turn started' });
  sink.push(plan(0, 3, 'read the code'));
  sink.push(started('cat a.ts'));
  sink.push(command('cat a.ts'));
  sink.push(plan(1, 3, 'change it')); // a step done: told at once
  await sleep(100);
  sink.push(changed('src/a.ts, src/b.ts'));
  sink.push(plan(2, 3, 'run the tests')); // within a fifth of the interval: waits for the gap
  await sleep(400);
  sink.push(started('npm test'));
  await sleep(2300); // a whole interval without a new step: "still working"
  sink.push(command('npm test'));
  sink.push({ kind: 'turn_ended', text: 'turn completed' });
  sink.push(plan(3, 3, 'done')); // after the turn ended: nothing more
  await sink.end();
  await sleep(300);

  const messages = messagesIn('-100777');
  expect(messages).toEqual([
    expect.stringMatching(
      /^⏳ Codex task ms-task: step 1\/3 done \(turn 2\)\n\n1 command run, 0 files changed\nnow: change it$/,
    ),
    expect.stringMatching(
      /^⏳ Codex task ms-task: step 2\/3 done \(turn 2\)\n\n1 command run, 2 files changed\nnow: run the tests$/,
    ),
    expect.stringMatching(
      /^⏳ Codex task ms-task still working after \d s \(turn 2\)\n\n1 command run, 2 files changed, plan: 2\/3 steps done\nnow: run the tests$/,
    ),
  ]);
  const requests = gw.requests.map((r) => ({ id: r.requestId, body: r.body as Record<string, unknown> }));
  expect(requests.map((r) => r.id)).toEqual([
    'ms-task:turn-2:milestone-1:g0',
    'ms-task:turn-2:milestone-2:g0',
    'ms-task:turn-2:milestone-3:g0',
  ]);
  expect(requests.every((r) => r.body.event_type === 'codex_bridge.milestone' && r.body.kind === 'milestone')).toBe(
    true,
  );
  // The step gap held the second step back for a fifth of the interval (400 ms; pushed after 100).
  const at = gw.requests.map((r) => r.receivedAt);
  expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(250);
  expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(1900);
});

test('bounded per turn; a failed milestone is not retried; a retried attempt posts none of them twice', async () => {
  const notifier = hermes();
  const options = { milestones: { channels: ['hermes' as const], notifier, intervalMs: 1000, maxPerTurn: 3 } };
  const attempt = async () => {
    const sink = createProgressMessenger(options)('bound', 1, 'hermes:telegram:-100888')!;
    for (let done = 1; done <= 8; done++) {
      sink.push(plan(done, 8, `step ${done + 1}`));
      await sleep(250); // longer than the step gap (200 ms): each step would be its own message
    }
    await sink.end();
  };
  gw.failNext(1, { kind: 'status', status: 500 }); // the first milestone is lost, and stays lost
  await attempt();
  await sleep(200);
  expect(gw.requests.map((r) => [r.requestId, r.status])).toEqual([
    ['bound:turn-1:milestone-1:g0', 500],
    ['bound:turn-1:milestone-2:g0', 200],
    ['bound:turn-1:milestone-3:g0', 200],
  ]);
  expect(messagesIn('-100888')).toEqual([
    expect.stringContaining('step 2/8 done'),
    expect.stringContaining('step 3/8 done'),
  ]);

  // The turn's activity retried (a new worker): the same keys, so the gateway drops what it saw.
  await attempt();
  await sleep(200);
  expect(messagesIn('-100888')).toHaveLength(3); // only milestone 1, lost the first time, arrives now
  expect(gw.requests).toHaveLength(6);
});

test('the turn never waits long for a milestone in flight', async () => {
  gw.failNext(1, { kind: 'slow', delayMs: 1500 });
  const sink = createProgressMessenger({
    milestones: { channels: ['hermes'], notifier: hermes(), endWaitMs: 300 },
  })('slow', 1, 'hermes:telegram:-100999')!;
  sink.push(plan(1, 2, 'finish'));
  await sleep(100);
  const t0 = Date.now();
  await sink.end();
  expect(Date.now() - t0).toBeLessThan(1000);
  await sleep(1500); // let the gateway answer before it stops
});

test('local: the milestones are lines of the inbox, under their own keys, beside the completion', async () => {
  const inbox = path.join(dir, 'inbox.jsonl');
  const logged: string[] = [];
  const notifier = createLocalNotifier({ inboxPath: inbox, log: (l) => logged.push(l) });
  const messenger = createProgressMessenger({ milestones: { channels: ['local'], notifier, intervalMs: 600 } });
  const sink = messenger('loc', 1, 'local')!;
  sink.push(started('make'));
  sink.push(command('make'));
  await sleep(900);
  sink.push(plan(1, 2, 'package it'));
  await sleep(200);
  await sink.end();
  // A retried attempt of the same turn writes nothing new.
  const again = messenger('loc', 1, 'local')!;
  again.push(plan(1, 2, 'package it'));
  await sleep(100);
  await again.end();

  const lines = await readInboxLines(inbox);
  expect(lines.map((l) => [l.idempotency_key, l.kind, l.title])).toEqual([
    ['loc:turn-1:milestone-1', 'milestone', expect.stringMatching(/^⏳ Codex task loc still working after \d s$/)],
    ['loc:turn-1:milestone-2', 'milestone', '⏳ Codex task loc: step 1/2 done'],
  ]);
  expect(lines[0]!.text).toBe('1 command run, 0 files changed\nnow: $ make');
  expect(lines[1]!.text).toBe('1 command run, 0 files changed\nnow: package it');
  expect(logged).toHaveLength(2);
});
