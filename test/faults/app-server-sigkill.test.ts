// One worker with pooled app-servers; while tasks keep arriving, one of its app-servers is
// SIGKILLed mid-turn again and again. Only the turns that process hosted fail, Temporal retries
// them on the pool's replacement (or the other process), the worker itself never dies, and every
// task ends and is told exactly once.
import { describeReport, FaultEnv, sleep } from './support/fault-env';

const TASKS = 40;
const KILLS = 4;
const POOL = 2;

let env: FaultEnv;

beforeAll(async () => {
  env = await FaultEnv.start('appserver-kill', {
    model: { delayMs: 2500 },
    heartbeatTimeoutMs: 5000,
    env: { CODEX_BRIDGE_APP_SERVERS: String(POOL) },
  });
});

afterAll(async () => {
  await env?.close();
});

test(`SIGKILL a pooled app-server mid-turn ${KILLS} times across ${TASKS} tasks: only its turns are retried, every task is told once`, async () => {
  const worker = env.startWorker();
  const ids: string[] = [];
  const arrivals = (async () => {
    for (let i = 0; i < TASKS; i++) {
      ids.push(await env.startTask('apk', i));
      await sleep(800);
    }
  })();
  void arrivals.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled

  const killed: number[] = [];
  let arrived = false;
  void arrivals.then(
    () => (arrived = true),
    () => (arrived = true),
  );
  const deadline = Date.now() + 3 * 60_000;
  while (killed.length < KILLS && Date.now() < deadline && !arrived) {
    // Spaced so that one task is not caught by every kill (a turn has three attempts).
    await sleep(5000);
    while (
      !(env.appServerPidsOf(worker).length === POOL && env.model.inFlight >= 2) &&
      Date.now() < deadline &&
      !arrived
    )
      await sleep(100);
    const pids = env.appServerPidsOf(worker).filter((p) => !killed.includes(p));
    if (pids.length === 0) continue;
    const victim = pids[killed.length % pids.length]!;
    process.kill(victim, 'SIGKILL');
    killed.push(victim);
    env.log(
      `kill #${killed.length}: app-server ${victim} of ${worker} SIGKILLed with ${env.model.inFlight} model responses open`,
    );
  }
  await arrivals;
  expect(killed).toHaveLength(KILLS);

  await env.waitForTerminal(ids, 5 * 60_000);
  const report = await env.verifyNothingLost(ids);
  env.log(`${killed.length} app-servers killed: ${describeReport(report)}`);
  expect(report.codexRetried).toBeGreaterThanOrEqual(1);
  // The worker survived every kill and ran every turn; the pool replaced what was killed.
  expect(env.workers.get(worker)?.alive).toBe(true);
  expect(new Set([...report.outcomes.values()].map((o) => o.codexWorker))).toEqual(new Set([worker]));
  const live = env.appServerPidsOf(worker);
  expect(live.length).toBeGreaterThanOrEqual(1);
  expect(live.length).toBeLessThanOrEqual(POOL);
  expect(live.filter((p) => killed.includes(p))).toEqual([]);
  // A turn whose three attempts all lost their process fails as such; none may end otherwise.
  for (const { doc } of report.outcomes.values()) {
    if (doc.status !== 'completed')
      expect({ id: doc.task_id, status: doc.status, type: doc.error?.type }).toEqual({
        id: doc.task_id,
        status: 'failed',
        type: 'CodexAppServerFailed',
      });
  }

  // The worker dies abruptly: its app-servers go with it.
  await env.killWorker(worker);
  await env.expectNoAppServersLeft();
});
