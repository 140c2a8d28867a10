// The MongoDB-wire store (FerretDB) stops while tasks run and comes back on the same data directory
// 15 s later. Tasks keep running and notifying meanwhile (Temporal is the source of truth); tasks
// can even be started during the outage; mirror writes are retried until the store returns, and
// then every document equals its workflow's final state.
import { describeReport, FaultEnv, sleep } from './support/fault-env';

let env: FaultEnv;

beforeAll(async () => {
  // Turns of 1 to 5 s, so that the outage finds tasks in every phase.
  env = await FaultEnv.start('store', { model: { delayMs: (i) => 1000 + (i % 5) * 1000 } });
});

afterAll(async () => {
  await env?.close();
});

test('the store is stopped and restarted mid-run: nothing is lost and the mirror catches up', async () => {
  env.startWorker();
  const ids = await env.startTasks('store', 10);
  const deadline = Date.now() + 120_000;
  while ((env.model.completed < 3 || env.model.inFlight < 2) && Date.now() < deadline) await sleep(100);

  const messagesBefore = env.feishu.messages.length;
  await env.stopStore();
  env.log(
    `store stopped with ${env.model.inFlight} turns in flight, ${env.model.completed} answered, ${messagesBefore} messages sent`,
  );
  // Starting works while the store is down (the mirror write of the start is best effort).
  const outageEnds = Date.now() + 15_000;
  const startTimes: number[] = [];
  for (let i = 0; Date.now() < outageEnds; i++) {
    const t = Date.now();
    ids.push(await env.startTask('store-outage', i));
    startTimes.push(Date.now() - t);
    await sleep(1000);
  }
  env.log(
    `starts during the outage took ${startTimes.join(', ')} ms (the best-effort mirror write waits for the driver's server selection timeout)`,
  );
  const messagesDuringOutage = env.feishu.messages.length - messagesBefore;
  await env.startStore();
  env.log(`store restarted; ${messagesDuringOutage} messages were sent while it was down`);

  const all = ids;
  await env.waitForTerminal(all, 5 * 60_000);
  const report = await env.verifyNothingLost(all);
  env.log(describeReport(report));
  // Delivery did not wait for the store.
  expect(messagesDuringOutage).toBeGreaterThan(0);
  expect(all.length).toBeGreaterThan(12);
});
