// Schedules end to end: `codex-bridge schedule …` (the CLI in process, against the real Temporal dev
// server and store), a worker running the REAL codex binary against a scripted model, and the
// notifications each run sends. The time-skipping test server has no Schedules (Temporal's Java
// test server does not implement them), so the runs here are seconds apart on the real server.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ScheduleDocument } from '../../src/contract/schedule';
import { TEMPORAL_CLI } from '../../src/infra/tool-paths';
import { FakeNotifier } from '../support/fake-notifier';
import { cli, onlyJson } from '../interfaces/support/run-cli';
import { createE2eHarness, eventually, sleep, type E2eHarness } from './support/e2e-harness';

let h: E2eHarness;
const notifier = new FakeNotifier();

beforeAll(async () => {
  h = await createE2eHarness();
  await h.startWorker({ notifier: notifier.notifier });
}, 120_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

const schedule = (...args: string[]) => cli(['schedule', ...args], { env: h.testEnv.env });
const final = (text: string) => ({ items: [{ type: 'message' as const, text, phase: 'final_answer' as const }] });

/** A run's task, once its starter has created it, to its end. */
async function taskResult(taskId: string) {
  await h.waitFor(taskId, () => true, 20_000);
  return h.result(taskId);
}

async function describe_(id: string): Promise<ScheduleDocument> {
  const run = await schedule('describe', id, '--json');
  expect(run.code).toBe(0);
  return onlyJson(run) as ScheduleDocument;
}

test('a schedule created from the CLI starts an ordinary task on time for every run, each notified once; delete stops it', async () => {
  const route = h.model.route(
    'every-4s',
    Array.from({ length: 10 }, (_, i) => final(`Run ${i + 1} done.`)),
  );
  const id = 'triage-every-4s';
  const created = await schedule(
    'create',
    '--schedule-id',
    id,
    '--cron',
    '*/4 * * * * * *',
    '--prompt',
    `Triage new issues ${route.tag}`,
    '--cwd',
    h.workdir('scheduled'),
    '--notify-target',
    'feishu:oc_sched',
    '--json',
  );
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
  const doc = onlyJson(created) as ScheduleDocument;
  expect(doc).toMatchObject({ schedule_id: id, cron: ['*/4 * * * * * *'], overlap: 'skip', paused: false });
  expect(doc.task).toMatchObject({ prompt: `Triage new issues ${route.tag}`, notify_target: 'feishu:oc_sched' });
  expect(doc.next_runs.length).toBeGreaterThan(0);
  for (const t of doc.next_runs) expect(new Date(t).getUTCSeconds() % 4).toBe(0);

  // Visible where the Web UI's Schedules page looks (the same ListSchedules call).
  const listed = await eventually(
    async () =>
      (
        await promisify(execFile)(TEMPORAL_CLI, [
          'schedule',
          'list',
          '--address',
          h.config.temporal.address,
          '--output',
          'json',
        ])
      ).stdout,
    (out) => out.includes(id),
    20_000,
    'the schedule in `temporal schedule list`',
  );
  expect(listed).toContain(id);

  const ran = await eventually(
    () => describe_(id),
    (d) => d.recent_runs.length >= 2,
    30_000,
    'two runs',
  );
  const tasks = await Promise.all(ran.recent_runs.slice(0, 2).map((r) => taskResult(r.task_id)));
  tasks.forEach((task, i) => {
    const run = ran.recent_runs[i]!;
    expect(task.task_id).toMatch(new RegExp(`^${id}-\\d{4}-\\d\\d-\\d\\dT\\d{6}Z$`));
    expect(task.status).toBe('completed');
    expect(task.result?.final_message).toMatch(/^Run \d+ done\.$/);
    expect(task.notification_status).toBe('sent');
    expect(notifier.completions(task.task_id)).toHaveLength(1);
    // On time: due on a multiple of 4 seconds, and the task existed within 3 s of that.
    expect(new Date(run.scheduled_at).getUTCSeconds() % 4).toBe(0);
    expect(Date.parse(task.created_at) - Date.parse(run.scheduled_at)).toBeLessThan(3_000);
  });
  expect(new Set(tasks.map((t) => t.task_id)).size).toBe(2);
  // Each run is an ordinary task: `status` and `list` know it.
  const status = await cli(['status', tasks[0]!.task_id, '--json'], { env: h.testEnv.env });
  expect(onlyJson(status)).toMatchObject({ task_id: tasks[0]!.task_id, status: 'completed' });

  const deleted = await schedule('delete', id, '--json');
  expect(deleted.code).toBe(0);
  expect(onlyJson(deleted)).toEqual({ schedule_id: id, deleted: true });
  // A run that began just before the delete still ends; after that, nothing new starts.
  await sleep(1_000);
  const settle = async () => (await h.store.list({ limit: 1000 })).tasks.filter((t) => t.task_id.startsWith(`${id}-`));
  const before = await eventually(
    settle,
    (ts) => ts.every((t) => ['completed', 'failed', 'cancelled', 'timed_out'].includes(t.status)),
    30_000,
    'runs settled',
  );
  await sleep(9_000);
  expect((await settle()).map((t) => t.task_id).sort()).toEqual(before.map((t) => t.task_id).sort());
  const gone = await schedule('describe', id);
  expect(gone.code).toBe(3);
  expect(gone.stderr).toMatch(/Schedule triage-every-4s does not exist\./);
}, 120_000);

test('overlap "skip": no run starts while the previous task still runs', async () => {
  const route = h.model.route('overlap', [{ stall: true }, final('Second run done.')]);
  const id = 'overlap-every-2s';
  const created = await schedule(
    'create',
    '--schedule-id',
    id,
    '--cron',
    '*/2 * * * * * *',
    '--prompt',
    `Long job ${route.tag}`,
    '--cwd',
    h.workdir('overlap'),
    '--notify-target',
    'feishu:oc_overlap',
  );
  expect(created.code).toBe(0);
  expect(created.stdout.trim()).toBe(id);

  const first = (
    await eventually(
      () => describe_(id),
      (d) => d.recent_runs.length >= 1,
      20_000,
      'a first run',
    )
  ).recent_runs[0]!.task_id;
  await h.waitFor(first, (t) => t.status === 'running');
  await route.waitForRequests(1);
  await sleep(7_000); // three or four runs were due meanwhile
  expect((await describe_(id)).recent_runs.map((r) => r.task_id)).toEqual([first]);

  await h.service.cancel(first);
  expect((await h.result(first)).status).toBe('cancelled');
  const next = await eventually(
    () => describe_(id),
    (d) => d.recent_runs.length >= 2,
    20_000,
    'the next run',
  );
  await schedule('delete', id);
  const second = await taskResult(next.recent_runs[1]!.task_id);
  expect(second.status).toBe('completed');
  expect(second.result?.final_message).toBe('Second run done.');
  expect(Date.parse(next.recent_runs[1]!.scheduled_at)).toBeGreaterThanOrEqual(
    Date.parse((await h.store.get(first))!.finished_at!) - 2_000,
  );
}, 120_000);

test('a weekday-morning schedule is due at 09:00 on weekdays in its time zone; pause, unpause and list show its state', async () => {
  const id = 'weekday-morning';
  const created = await schedule(
    'create',
    '--schedule-id',
    id,
    '--cron',
    '0 9 * * 1-5',
    '--timezone',
    'Europe/Berlin',
    '--prompt',
    'Morning triage',
    '--cwd',
    h.workdir('morning'),
    '--notify-target',
    'local',
    '--json',
  );
  expect(created.code).toBe(0);
  const doc = onlyJson(created) as ScheduleDocument;
  expect(doc.timezone).toBe('Europe/Berlin');
  expect(doc.next_runs.length).toBeGreaterThanOrEqual(5);
  const berlin = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Berlin',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
  for (const t of doc.next_runs) {
    const parts = Object.fromEntries(berlin.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
    expect(['Mon', 'Tue', 'Wed', 'Thu', 'Fri']).toContain(parts.weekday);
    expect(`${parts.hour}:${parts.minute}`).toBe('09:00');
  }

  const paused = await schedule('pause', id, '--note', 'release freeze', '--json');
  expect(onlyJson(paused)).toMatchObject({ paused: true, note: 'release freeze' });
  const list = await eventually(
    async () => onlyJson(await schedule('list', '--json')).schedules as ScheduleDocument[],
    (s) => s.some((x) => x.schedule_id === id && x.paused),
    20_000,
    'list shows it paused',
  );
  expect(list.find((s) => s.schedule_id === id)!.task.prompt).toBe('Morning triage');
  const table = await schedule('list');
  expect(table.stdout).toMatch(new RegExp(`${id}\\s+0 9 \\* \\* 1-5 \\(Europe/Berlin\\)\\s+paused`));
  expect(onlyJson(await schedule('unpause', id, '--json'))).toMatchObject({ paused: false });
  expect((await schedule('delete', id)).code).toBe(0);
});

test('bad input is refused with one sentence and creates nothing', async () => {
  const bad = await schedule(
    'create',
    '--schedule-id',
    'bad-cron',
    '--cron',
    '61 9 * * *',
    '--prompt',
    'p',
    '--cwd',
    h.workdir('bad'),
  );
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  expect(bad.stderr).toMatch(/cron/);
  expect((await schedule('describe', 'bad-cron')).code).toBe(3);

  const target = await schedule('create', '--cron', '0 9 * * *', '--prompt', 'p', '--notify-target', 'telegram:1');
  expect(target.code).toBe(2);
  expect(target.stderr).toMatch(/notify_target "telegram:1" is invalid/);

  const taken = await schedule(
    'create',
    '--schedule-id',
    'twice',
    '--cron',
    '0 9 * * *',
    '--prompt',
    'p',
    '--cwd',
    h.workdir('twice'),
    '--paused',
  );
  expect(taken.code).toBe(0);
  const again = await schedule(
    'create',
    '--schedule-id',
    'twice',
    '--cron',
    '0 9 * * *',
    '--prompt',
    'p',
    '--cwd',
    h.workdir('twice'),
  );
  expect(again.code).toBe(4);
  expect(again.stderr).toMatch(/already exists/);
  expect((await schedule('delete', 'twice')).code).toBe(0);
});
