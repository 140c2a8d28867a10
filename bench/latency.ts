// Completion → notification latency: the bridge's workflow delivery against a poll-based
// watcher, on the same machine, store and stand-in Codex turn, in one run.
//
// Bridge: a real task workflow on the in-process worker; the stand-in Codex activity sleeps a fixed
// time and stamps the moment it returns (the real activity returns when it sees turn/completed);
// the end is the moment the worker's notifier is called for the completion.
//
// Watcher (notifying by polling): the task's mirror document turns terminal with notification `pending` at
// completion, and `notifyCompleted` (the repair watcher in src/watcher) runs every N
// seconds, delivering what it finds; the end is its notifier call. The simulation skips such a
// workflow's own hop from "activity returned" to "mirror written", so the watcher figures are a
// lower bound. Where in the poll's period completions land (its phase) decides a round's latency,
// so the rounds of a level are spread evenly over the period: round j of n first scans after
// (j + ½)/n of the interval. Their median is that of a uniformly random phase, not the luck of a
// few random draws.
import { randomUUID } from 'node:crypto';
import type { CodexTurnInput, CodexTurnResult } from '../src/contract/codex-turn';
import type { TaskDocument } from '../src/contract/task';
import { newTaskDocument } from '../src/contract/task';
import { TaskStore } from '../src/store/task-store';
import { notifyCompleted } from '../src/watcher/notify-completed';
import { turnResult } from '../test/support/fake-codex';
import type { BenchEnv } from './lib/bench-env';
import { DeliveryRecorder } from './lib/bench-env';
import type { BenchOptions } from './lib/options';
import { now, sleep, summarize, type Summary } from './lib/stats';

export interface LatencyRow {
  mode: string;
  concurrency: number;
  summary: Summary;
}

export interface LatencyResult {
  rows: LatencyRow[];
  standInMs: number;
  /** Store errors the watcher simulation met and retried. */
  watcherStoreErrors: { mirrorRetries: number; failedScans: number };
  /** Failed attempts of the bridge's mirror activity (each retried by Temporal), by concurrency. */
  bridgeMirrorFailures: Record<number, number>;
}

/** A stand-in Codex activity: a fixed-length turn that records when it "saw turn/completed". */
export function standInCodex(delayMs: number, completedAt: Map<string, number>) {
  return async (input: CodexTurnInput): Promise<CodexTurnResult> => {
    if (delayMs > 0) await sleep(delayMs);
    completedAt.set(input.taskId, now());
    return turnResult(input, { durationMs: delayMs });
  };
}

export async function benchLatency(
  env: BenchEnv,
  opts: BenchOptions,
  log: (line: string) => void,
): Promise<LatencyResult> {
  const config = env.config('latency');
  const { service } = await env.service(config);
  const completedAt = new Map<string, number>();
  const recorder = new DeliveryRecorder();
  const watcherStore = await TaskStore.connect(config.mongo.uri, `${config.mongo.db}_watcher`);
  const samples = new Map<string, number[]>(); // `${mode}@${c}` → latencies
  const add = (mode: string, c: number, values: number[]) =>
    samples.set(`${mode}@${c}`, [...(samples.get(`${mode}@${c}`) ?? []), ...values]);
  const cwd = env.dir;

  const bridgeRound = async (c: number): Promise<number[]> => {
    const ids = Array.from({ length: c }, () => `lat-${c}-${randomUUID().slice(0, 8)}`);
    await Promise.all(
      ids.map((task_id) => service.start({ task_id, prompt: 'benchmark turn', cwd, notify_target: 'local' })),
    );
    const delivered = await Promise.all(ids.map((id) => recorder.wait(id, 120_000)));
    return ids.map((id, i) => delivered[i]! - completedAt.get(id)!);
  };

  /** One watcher round whose first scan comes `phase` (0–1) of the interval after the round starts. */
  const watcherRound = async (c: number, intervalMs: number, phase: number): Promise<number[]> => {
    const watcherRecorder = new DeliveryRecorder();
    const poller = startPoller(watcherStore, watcherRecorder, intervalMs, phase * intervalMs);
    try {
      const ids = Array.from({ length: c }, () => `watch-${c}-${randomUUID().slice(0, 8)}`);
      const done = new Map<string, number>();
      await Promise.all(
        ids.map(async (id) => {
          const doc = queuedDoc(id, cwd);
          await mirrorWithRetry(() => watcherStore.applyMirror(doc));
          await sleep(opts.standInMs); // the same stand-in turn
          const t = now();
          done.set(id, t);
          await mirrorWithRetry(() => watcherStore.applyMirror(finishedDoc(doc, t)));
        }),
      );
      const delivered = await Promise.all(ids.map((id) => watcherRecorder.wait(id, intervalMs * 3 + 60_000)));
      return ids.map((id, i) => delivered[i]! - done.get(id)!);
    } finally {
      await poller.stop();
    }
  };

  // The worker's own store, counting the mirror writes that fail (FerretDB/SQLite: SQLITE_BUSY under concurrent writers).
  const bridgeMirrorFailures: Record<number, number> = {};
  let level = 0;
  const mirrorStore = TaskStore.lazy(config.mongo.uri, config.mongo.db);
  const countingStore = {
    applyMirror: (doc: TaskDocument) =>
      mirrorStore.applyMirror(doc).catch((err: unknown) => {
        bridgeMirrorFailures[level] = (bridgeMirrorFailures[level] ?? 0) + 1;
        throw err;
      }),
  };
  await env.withWorker(
    config,
    { runCodexTurn: standInCodex(opts.standInMs, completedAt), notifier: recorder.notifier, store: countingStore },
    async () => {
      // Warm-up: connections, caches, the worker's first workflow tasks.
      for (let i = 0; i < 3; i++) await bridgeRound(5);
      for (const intervalMs of opts.watcherIntervalsMs) await watcherRound(5, intervalMs, Math.random());

      const levels: [number, number][] = [
        [1, opts.latencySamples1],
        [20, opts.latencyRounds20],
        [100, opts.latencyRounds100],
      ];
      for (const [c, rounds] of levels) {
        const started = Date.now();
        level = c;
        bridgeMirrorFailures[c] = 0;
        // At concurrency 1 the watcher takes a sample for every ~3 bridge samples (each costs seconds).
        const watcherRounds = c > 1 ? rounds : Math.ceil(rounds / 3);
        for (let r = 0, j = 0; r < rounds; r++) {
          // Interleaved, so that machine noise hits both approaches alike.
          add('bridge', c, await bridgeRound(c));
          if (c > 1 || r % 3 === 0) {
            const phase = (j++ + 0.5) / watcherRounds;
            for (const intervalMs of opts.watcherIntervalsMs)
              add(`watcher ${intervalMs / 1000} s`, c, await watcherRound(c, intervalMs, phase));
          }
        }
        log(`latency at concurrency ${c}: ${rounds} rounds in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
    },
  );
  await watcherStore.close();
  await mirrorStore.close();

  // Attribution: the same bridge rounds with mirror writes going to a no-op store, to show how much
  // of the bridge's latency is the MongoDB-wire store (FerretDB/SQLite here) rather than Temporal.
  const noMirror = env.config('latency-nomirror');
  const noMirrorService = (await env.service(noMirror)).service;
  const noMirrorRound = async (c: number): Promise<number[]> => {
    const ids = Array.from({ length: c }, () => `latnm-${c}-${randomUUID().slice(0, 8)}`);
    await Promise.all(
      ids.map((task_id) => noMirrorService.start({ task_id, prompt: 'benchmark turn', cwd, notify_target: 'local' })),
    );
    const delivered = await Promise.all(ids.map((id) => recorder.wait(id, 120_000)));
    return ids.map((id, i) => delivered[i]! - completedAt.get(id)!);
  };
  const noopStore = { applyMirror: async () => 'applied' as const };
  await env.withWorker(
    noMirror,
    { runCodexTurn: standInCodex(opts.standInMs, completedAt), notifier: recorder.notifier, store: noopStore },
    async () => {
      for (let i = 0; i < 3; i++) await noMirrorRound(5);
      for (const [c, rounds] of [
        [1, Math.ceil(opts.latencySamples1 / 2)],
        [20, opts.latencyRounds20],
        [100, opts.latencyRounds100],
      ] as const) {
        for (let r = 0; r < rounds; r++) add('bridge, no-op mirror', c, await noMirrorRound(c));
      }
    },
  );

  const rows: LatencyRow[] = [];
  for (const [key, values] of samples) {
    const [mode, c] = key.split('@') as [string, string];
    rows.push({ mode, concurrency: Number(c), summary: summarize(values) });
  }
  rows.sort((a, b) => a.concurrency - b.concurrency || a.mode.localeCompare(b.mode));
  return { rows, standInMs: opts.standInMs, watcherStoreErrors: { ...watcherStoreErrors }, bridgeMirrorFailures };
}

/** Store errors met by the watcher simulation (FerretDB/SQLite answers SQLITE_BUSY under write load). */
export const watcherStoreErrors = { mirrorRetries: 0, failedScans: 0 };

/** A polling design's mirror write is a Temporal activity: retried after 1 s when the store failed. */
async function mirrorWithRetry(write: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch (err) {
      if (attempt >= 30) throw err;
      watcherStoreErrors.mirrorRetries += 1;
      await sleep(1000);
    }
  }
}

/** Runs the watcher every `intervalMs` (fixed rate) until stopped; a failed scan is retried at the next tick, as a cron job would be. */
function startPoller(
  store: TaskStore,
  recorder: DeliveryRecorder,
  intervalMs: number,
  firstScanAfterMs: number,
): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | null = null;
  const loop = (async () => {
    for (let tick = now() + firstScanAfterMs; !stopped; tick += intervalMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, tick - now()));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopped) return;
      await notifyCompleted({ store, notifier: recorder.notifier }).catch(
        () => void (watcherStoreErrors.failedScans += 1),
      );
      if (now() > tick + intervalMs) tick = now() - intervalMs; // a scan longer than the interval: the next one starts at once
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}

function queuedDoc(taskId: string, cwd: string): TaskDocument {
  const at = new Date().toISOString();
  const queued = newTaskDocument({
    task_id: taskId,
    prompt: 'benchmark turn',
    cwd,
    model: null,
    sandbox: 'workspace-write',
    approval_policy: 'never',
    notify_target: 'local',
    created_at: at,
  });
  return { ...queued, status: 'running', started_at: at, version: 1 };
}

/** What a polling design's workflow mirrors at the end of a turn: terminal, notification left `pending`. */
function finishedDoc(doc: TaskDocument, finishedAtMs: number): TaskDocument {
  const finished_at = new Date(finishedAtMs).toISOString();
  const result = {
    final_message: 'Done: benchmark turn',
    summary: 'completed · Done: benchmark turn',
    thread_id: `thread-${doc.task_id}`,
    turn_id: 'turn-1',
    usage: { input_tokens: 10, cached_input_tokens: 0, output_tokens: 5, reasoning_output_tokens: 0, total_tokens: 15 },
    commands: [],
    file_changes: [],
    diff: null,
  };
  return {
    ...doc,
    status: 'completed',
    result,
    notification_status: 'pending',
    finished_at,
    updated_at: finished_at,
    turns: [
      {
        turn: 1,
        prompt: doc.prompt,
        status: 'completed',
        result,
        error: null,
        notification_status: 'pending',
        notified_at: null,
        notification_error: null,
        started_at: doc.started_at,
        finished_at,
      },
    ],
    version: doc.version + 1,
  };
}
