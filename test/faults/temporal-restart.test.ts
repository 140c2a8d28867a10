// The Temporal dev server stops while tasks run (turns in flight, deliveries pending) and restarts
// on the same port and SQLite file: first a graceful stop, later a crash (SIGKILL). The worker
// processes stay up and reconnect; workflows resume from their persisted histories.
import { describeReport, FaultEnv, sleep } from './support/fault-env';

let env: FaultEnv;

beforeAll(async () => {
  // Turns of 1 to 4.5 s, so that some finish while others are still in flight.
  env = await FaultEnv.start('temporal', { model: { delayMs: (i) => 1000 + (i % 6) * 700 } });
});

afterAll(async () => {
  await env?.close();
});

test('the Temporal server is stopped and crashed mid-run: workflows resume and nothing is lost', async () => {
  env.startWorker('worker-1');
  const ids = await env.startTasks('tempo', 20);
  // Waits (bounded) until some turns have finished and others are in flight.
  const waitForProgress = async (answered: number, inFlight: number) => {
    const deadline = Date.now() + 120_000;
    while ((env.model.completed < answered || env.appServersOf('worker-1') < inFlight) && Date.now() < deadline)
      await sleep(50);
  };

  await waitForProgress(2, 2);
  env.log(
    `stopping Temporal (SIGTERM) with ${env.appServersOf('worker-1')} turns in flight, ${env.model.completed} answered`,
  );
  await env.stopTemporal();
  await sleep(8000);
  await env.startTemporal();
  env.log('Temporal restarted');

  ids.push(...(await env.startTasks('tempo-after', 10)));
  await waitForProgress(env.model.completed + 2, 1);
  env.log(`SIGKILLing Temporal with ${env.appServersOf('worker-1')} turns in flight, ${env.model.completed} answered`);
  await env.temporal.process.kill();
  await sleep(5000);
  await env.startTemporal();
  env.log('Temporal restarted after the crash');

  await env.waitForTerminal(ids, 6 * 60_000);
  const report = await env.verifyNothingLost(ids);
  env.log(describeReport(report));
  // The same worker process carried on throughout.
  expect([...env.workers.keys()]).toEqual(['worker-1']);
  expect(env.workers.get('worker-1')!.alive).toBe(true);
});
