// `list` latency against a large collection: TaskStore.list (newest first, limit 50) with no
// filter and with a common status (failed, ~8 %) — and at 1 000 documents with a rare one
// (running, ~0.5 %) — at growing collection sizes (1 000, 10 000, 100 000). Documents are seeded directly with insertMany (1 000 per batch) into a store
// that already has the production indexes, as a long-running deployment would; if seeding
// outlives its budget, the largest size reached is measured and the report says so.
import { MongoClient } from 'mongodb';
import type { TaskDocument, TaskStatus } from '../src/contract/task';
import { TaskStore } from '../src/store/task-store';
import type { BenchEnv } from './lib/bench-env';
import type { BenchOptions } from './lib/options';
import { now, summarize, type Summary } from './lib/stats';

export interface ListRow {
  docs: number;
  query: string;
  summary: Summary;
  /** Documents returned (≤ 50). */
  returned: number;
}

export interface ListResult {
  target: number;
  seeded: number;
  seedSeconds: number;
  docsPerSecond: number;
  budgetExhausted: boolean;
  rows: ListRow[];
}

const BATCH = 1000;
const ROW_BUDGET_MS = 20_000;

export async function benchList(env: BenchEnv, opts: BenchOptions, log: (line: string) => void): Promise<ListResult> {
  const db = 'bench_list';
  const store = await TaskStore.connect(env.store.uri, db); // creates the production indexes
  const mongo = new MongoClient(env.store.uri);
  await mongo.connect();
  const collection = mongo.db(db).collection<Record<string, unknown> & { _id: string }>('tasks');
  const checkpoints = [1_000, 10_000, 100_000].filter((n) => n < opts.listDocs).concat(opts.listDocs);
  const rows: ListRow[] = [];
  const budgetEnds = Date.now() + opts.listBudgetS * 1000;
  const base = Date.parse('2026-01-01T00:00:00Z');
  let seeded = 0;
  let seedMs = 0;
  let budgetExhausted = false;
  try {
    for (const checkpoint of checkpoints) {
      while (seeded < checkpoint) {
        if (Date.now() > budgetEnds) {
          budgetExhausted = true;
          break;
        }
        const n = Math.min(BATCH, checkpoint - seeded);
        const docs = Array.from({ length: n }, (_, i) => storedDoc(seeded + i, base));
        const t = now();
        await collection.insertMany(docs, { ordered: false });
        seedMs += now() - t;
        seeded += n;
        if (seeded % 20_000 === 0)
          log(`list: seeded ${seeded} documents (${(seeded / (seedMs / 1000)).toFixed(0)} docs/s)`);
      }
      if (seeded === 0) break;
      const kinds: [string, { status?: TaskStatus }][] = [
        ['newest 50, no filter', {}],
        ['newest 50, status=failed (~8 %)', { status: 'failed' }],
      ];
      if (seeded <= 1_000) kinds.push(['newest 50, status=running (~0.5 %)', { status: 'running' }]);
      for (const [query, filter] of kinds) {
        // At least 3 timed queries, then as many as opts.listQueries while the row's budget lasts:
        // on a store that sorts in memory one query can take most of a minute.
        const times: number[] = [];
        let returned = 0;
        const rowEnds = Date.now() + ROW_BUDGET_MS;
        for (let i = 0; times.length < opts.listQueries && (times.length < 3 || Date.now() < rowEnds); i++) {
          const t = now();
          const { tasks: docs } = await store.list({ ...filter, limit: 50 });
          const took = now() - t;
          if (i > 0 || took > 2000) times.push(took); // the first query warms up, unless it is slow anyway
          returned = docs.length;
        }
        rows.push({ docs: seeded, query, summary: summarize(times), returned });
      }
      log(`list: measured at ${seeded} documents`);
      if (budgetExhausted) break;
    }
  } finally {
    await mongo.close();
    await store.close();
  }
  return {
    target: opts.listDocs,
    seeded,
    seedSeconds: seedMs / 1000,
    docsPerSecond: seeded / (seedMs / 1000),
    budgetExhausted,
    rows,
  };
}

const STATUSES: [TaskStatus, number][] = [
  ['completed', 0.855],
  ['failed', 0.08],
  ['cancelled', 0.03],
  ['timed_out', 0.02],
  ['waiting_for_input', 0.005],
  ['running', 0.005],
  ['queued', 0.005],
];

/** The i-th task document, as the mirror stores it: deterministic, one turn, a realistic result. */
export function storedDoc(i: number, base: number): Record<string, unknown> & { _id: string } {
  const r = ((i * 2654435761) % 1_000_003) / 1_000_003; // a cheap deterministic spread
  let acc = 0;
  const status = (STATUSES.find(([, p]) => (acc += p) > r) ?? STATUSES[0]!)[0];
  const terminal = !['running', 'queued', 'waiting_for_input'].includes(status);
  const created = new Date(base + i * 1000).toISOString();
  const finished = terminal ? new Date(base + i * 1000 + 90_000).toISOString() : null;
  const id = `bench-list-${String(i).padStart(7, '0')}`;
  const result = terminal
    ? {
        final_message: `Fixed the flaky test in src/module-${i % 97}.ts: the retry loop now waits for the socket to close before reconnecting.`,
        summary: `${status} · 2 commands · 1 file changed · Fixed the flaky test in src/module-${i % 97}.ts`,
        thread_id: `thr_${i.toString(36)}`,
        turn_id: `turn_${i.toString(36)}`,
        usage: {
          input_tokens: 12000,
          cached_input_tokens: 8000,
          output_tokens: 900,
          reasoning_output_tokens: 300,
          total_tokens: 12900,
        },
        commands: [
          {
            command: 'npm test',
            exit_code: 0,
            status: 'completed',
            output: 'Tests: 42 passed, 42 total',
            duration_ms: 5300,
          },
        ],
        file_changes: [
          {
            path: `src/module-${i % 97}.ts`,
            kind: 'update',
            diff: '@@ -1,3 +1,3 @@\n-  retry()\n+  await closed; retry()\n',
          },
        ],
        diff: null,
      }
    : null;
  const notification = terminal ? 'sent' : null;
  const doc: Omit<TaskDocument, 'task_id'> & { _id: string } = {
    _id: id,
    workflow_id: id,
    run_id: `run-${i}`,
    prompt: `Fix the flaky test in src/module-${i % 97}.ts and explain what was wrong.`,
    cwd: `/srv/repos/project-${i % 13}`,
    model: null,
    sandbox: 'workspace-write',
    approval_policy: 'never',
    status,
    notify_target: `feishu:oc_chat_${i % 50}`,
    notification_status: notification,
    notified_at: finished,
    notification_error: null,
    notification_attempts: terminal ? 1 : 0,
    pending_requests: [],
    result,
    error: status === 'failed' ? { type: 'CodexActivityFailed', message: 'The model returned an error.' } : null,
    turns: [],
    created_at: created,
    started_at: created,
    finished_at: finished,
    updated_at: finished ?? created,
    version: terminal ? 6 : 2,
  };
  return doc as unknown as Record<string, unknown> & { _id: string };
}
