// Two worker processes share one task queue; one is SIGKILLed while both hold turns in flight and
// never comes back. The survivor must finish every task: the dead worker's turns are retried after
// the heartbeat timeout, its orphaned app-servers reaped, and every chat told exactly once.
import { describeReport, FaultEnv, sleep } from './support/fault-env';

let env: FaultEnv;

beforeAll(async () => {
  env = await FaultEnv.start('two-workers', { model: { delayMs: 2500 }, heartbeatTimeoutMs: 5000 });
});

afterAll(async () => {
  await env?.close();
});

test('two workers share the load; one is killed mid-turn and the other finishes every task', async () => {
  env.startWorker('worker-a');
  env.startWorker('worker-b');
  // Tasks keep arriving while the workers run, so each worker has turns finishing and starting.
  const ids: string[] = [];
  const arrivals = (async () => {
    for (let i = 0; i < 30; i++) {
      ids.push(await env.startTask('pair', i));
      await sleep(300);
    }
  })();
  void arrivals.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled

  // Kill A once it has finished turns of its own and holds more in flight (bounded wait).
  const deadline = Date.now() + 120_000;
  for (;;) {
    const byWorker = await env.codexTurnsBy(ids);
    if ((byWorker.get('worker-a') ?? 0) >= 1 && env.appServersOf('worker-a') >= 1) break;
    if (Date.now() > deadline) throw new Error(`worker-a never had finished and running turns at once: ${JSON.stringify([...byWorker])}\n${env.workerLogTails()}`);
    await sleep(250);
  }
  env.log(`killing worker-a: ${env.appServersOf('worker-a')} of its turns in flight, ${env.model.completed} turns answered in all`);
  await env.killWorker('worker-a');

  await arrivals;
  await env.waitForTerminal(ids, 5 * 60_000);
  const report = await env.verifyNothingLost(ids);
  env.log(describeReport(report));

  const workers = new Set([...report.outcomes.values()].map((o) => o.codexWorker));
  // Both shared the load before the kill; the survivor retried what the dead one held.
  expect(workers).toEqual(new Set(['worker-a', 'worker-b']));
  expect([...report.outcomes.values()].filter((o) => o.codexAttempt > 1 && o.codexWorker === 'worker-b').length).toBeGreaterThanOrEqual(1);
  await env.expectNoAppServersLeft();
});
