// Two worker processes share one task queue; one is SIGKILLed while both hold turns in flight and
// never comes back. The survivor must finish every task: the dead worker's turns are retried after
// the heartbeat timeout, its orphaned app-servers reaped, and every chat told exactly once.
import { describeReport, FaultEnv } from './support/fault-env';

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
  const arrivals = env.startArrivals('pair', 30, 300, ids);

  // Kill A once it has finished turns of its own and holds more in flight (bounded wait).
  await env.waitUntilMidRun('worker-a', ids);
  env.log(
    `killing worker-a: ${env.appServersOf('worker-a')} of its turns in flight, ${env.model.completed} turns answered in all`,
  );
  await env.killWorker('worker-a');

  await arrivals;
  await env.waitForTerminal(ids, 5 * 60_000);
  const report = await env.verifyNothingLost(ids);
  env.log(describeReport(report));

  const workers = new Set([...report.outcomes.values()].map((o) => o.codexWorker));
  // Both shared the load before the kill; the survivor retried what the dead one held.
  expect(workers).toEqual(new Set(['worker-a', 'worker-b']));
  expect(
    [...report.outcomes.values()].filter((o) => o.codexAttempt > 1 && o.codexWorker === 'worker-b').length,
  ).toBeGreaterThanOrEqual(1);
  await env.expectNoAppServersLeft();
});
