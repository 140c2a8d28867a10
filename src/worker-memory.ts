// The worker's memory, bounded for its load (measured by the benchmark's worker-memory section).
//
// V8 sizes each isolate's young generation when the isolate is created and lets it grow to
// 2 × 16 MiB under allocation bursts, in the main isolate and again in the workflow thread's; the
// worker's allocations are small and short-lived (protocol frames, JSON, task documents), so 2 MiB
// semi-spaces cost a few more cheap scavenges and save ~60 MiB at 20 turns in flight. Node reads
// the main isolate's size only from its command line (or NODE_OPTIONS), so the launchers pass
// WORKER_NODE_FLAGS; the worker applies them itself to the isolates it creates later.
import * as v8 from 'node:v8';

export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/**
 * Workflows kept in the worker's sticky cache. Every open task's workflow (waiting for its turn or
 * for a person) is cached until this many; past it the least recently used is evicted and replays
 * its short history (tens of events) when it next has work. The SDK's default grows with the heap
 * limit (≈ 2 300 with a 4 GiB heap), which bounds nothing.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 250;

/** Applies WORKER_NODE_FLAGS to the isolates created from now on (the workflow thread's). */
export function applyWorkerV8Flags(): void {
  for (const flag of WORKER_NODE_FLAGS) v8.setFlagsFromString(flag);
}
