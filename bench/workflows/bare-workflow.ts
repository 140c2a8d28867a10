// The smallest useful Temporal workflow: one no-op activity. The benchmark runs it on the same
// server and worker settings as the bridge to measure what Temporal alone carries on this machine.
import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '1m' });

export async function bareWorkflow(): Promise<void> {
  await noop();
}
