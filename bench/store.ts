// The embedded store as the bridge uses it, patched FerretDB (our index pushdown) against the stock
// build of the same version, side by side in one run: `list` newest 50 with no filter and with each
// equality filter, `status` (a task by id) and a mirror write (a newer version of an existing task),
// at growing collection sizes of full-size task documents. Both stores are seeded alike with
// insertMany into a collection that already has the production indexes. The stock build needs
// seconds per query at 100 000 documents, so its rows stop after their time budget (see n).
import * as path from 'node:path';
import { MongoClient } from 'mongodb';
import type { TaskDocument } from '../src/contract/task';
import { startFerretDb, type RunningStore } from '../src/infra/ferretdb-server';
import { FERRETDB_STOCK } from '../src/infra/tool-paths';
import { TaskStore } from '../src/store/task-store';
import type { BenchEnv } from './lib/bench-env';
import type { BenchOptions } from './lib/options';
import { now, summarize, type Summary } from './lib/stats';
import { storedDoc } from './list-query';

export const STORE_BUILDS = ['patched', 'stock'] as const;
export type StoreBuild = (typeof STORE_BUILDS)[number];

export interface StoreRow {
  docs: number;
  metric: string;
  build: StoreBuild;
  summary: Summary;
}

export interface StoreResult {
  sizes: number[];
  rows: StoreRow[];
  samples: number;
  stockBudgetS: number;
}

const BATCH = 1000;
const BASE = Date.parse('2026-01-01T00:00:00Z');

interface Side {
  build: StoreBuild;
  server: RunningStore;
  store: TaskStore;
  mongo: MongoClient;
}

export async function benchStore(env: BenchEnv, opts: BenchOptions, log: (line: string) => void): Promise<StoreResult> {
  const sides: Side[] = [];
  const rows: StoreRow[] = [];
  const sizes = [1_000, 10_000, 100_000].filter((n) => n < opts.storeDocs).concat(opts.storeDocs);
  try {
    for (const build of STORE_BUILDS) {
      const dataDir = path.join(env.dir, `store-${build}`);
      const server = await startFerretDb({
        dataDir,
        logFile: `${dataDir}.log`,
        binary: build === 'stock' ? FERRETDB_STOCK : undefined,
      });
      const store = await TaskStore.connect(server.uri, 'bench_store'); // creates the production indexes
      const mongo = await MongoClient.connect(server.uri);
      sides.push({ build, server, store, mongo });
    }
    let seeded = 0;
    let version = 1_000;
    for (const size of sizes) {
      const t = Date.now();
      for (; seeded < size; seeded += BATCH) {
        const docs = Array.from({ length: Math.min(BATCH, size - seeded) }, (_, i) => storedDoc(seeded + i, BASE));
        await Promise.all(
          sides.map((s) =>
            s.mongo.db('bench_store').collection<{ _id: string }>('tasks').insertMany(docs, { ordered: false }),
          ),
        );
      }
      log(`store: seeded both builds to ${size} documents in ${((Date.now() - t) / 1000).toFixed(0)} s`);
      const pick = () => Math.floor(Math.random() * size);
      const metrics: [string, (s: TaskStore) => Promise<unknown>][] = [
        ['list newest 50, no filter', (s) => s.list({ limit: 50 })],
        ['list newest 50, status=failed', (s) => s.list({ status: 'failed', limit: 50 })],
        ['list newest 50, notification_status=sent', (s) => s.list({ notification_status: 'sent', limit: 50 })],
        ['list newest 50, notify_target=<one chat>', (s) => s.list({ notify_target: 'feishu:oc_chat_7', limit: 50 })],
        ['status (task by id)', (s) => s.get(storedDoc(pick(), BASE)._id)],
        ['mirror write (newer version)', (s) => s.applyMirror(asTask(storedDoc(pick(), BASE), ++version))],
      ];
      for (const [metric, op] of metrics) {
        for (const side of sides) {
          const budgetMs = side.build === 'stock' ? opts.storeStockBudgetS * 1000 : Number.POSITIVE_INFINITY;
          if (side.build === 'patched') await op(side.store); // warm-up (the stock build's seconds-long operations need none)
          const times: number[] = [];
          const ends = Date.now() + budgetMs;
          while (times.length < opts.storeSamples && (times.length === 0 || Date.now() < ends)) {
            const t0 = now();
            await op(side.store);
            times.push(now() - t0);
          }
          rows.push({ docs: size, metric, build: side.build, summary: summarize(times) });
        }
      }
      log(`store: measured at ${size} documents`);
    }
  } finally {
    for (const s of sides) {
      await s.store.close().catch(() => undefined);
      await s.mongo.close().catch(() => undefined);
      await s.server.stop();
    }
  }
  return { sizes, rows, samples: opts.storeSamples, stockBudgetS: opts.storeStockBudgetS };
}

function asTask({ _id, ...rest }: Record<string, unknown> & { _id: string }, version: number): TaskDocument {
  return { ...(rest as Omit<TaskDocument, 'task_id'>), task_id: _id, version, updated_at: new Date().toISOString() };
}

/** The report's section: both builds per metric and size, then the figures the store is held to. */
export function renderStore(
  r: StoreResult,
  table: (header: string[], rows: string[][]) => string,
  ms: (v: number) => string,
  ratio: (v: number) => string,
): string[] {
  const out: string[] = ['## Embedded store: patched vs stock FerretDB', ''];
  out.push(
    '`TaskStore` as the bridge calls it on FerretDB 1.24.2/SQLite: **patched** is the build `scripts/setup` installs (with ' +
      "`scripts/ferretdb/index-pushdown.patch`: equality, string ranges, the first sort key and the limit answered from SQLite's indexes; " +
      '`read-path.patch`: recently decoded documents kept, no stack trace per iterator), ' +
      '**stock** the same version unpatched, both started side by side in this run, seeded alike with full-size task documents (`insertMany`, ' +
      `1 000 per batch) into collections with the production indexes. Per metric and size: one warm-up, then up to ${r.samples} sequential operations; ` +
      `the stock build stops after ${r.stockBudgetS} s (at least one operation, see n). **list**: newest 50 of the filter; **status**: one task by id; ` +
      '**mirror write**: `applyMirror` of a newer version of an existing task (the version-guarded upsert).',
    '',
  );
  const find = (docs: number, metric: string, build: StoreBuild) =>
    r.rows.find((x) => x.docs === docs && x.metric === metric && x.build === build);
  const metrics = [...new Set(r.rows.map((x) => x.metric))];
  const rows: string[][] = [];
  for (const docs of r.sizes) {
    for (const metric of metrics) {
      const p = find(docs, metric, 'patched');
      const s = find(docs, metric, 'stock');
      if (!p) continue;
      rows.push([
        docs.toLocaleString('en-US'),
        metric,
        `${p.summary.n}`,
        ms(p.summary.p50),
        ms(p.summary.p99),
        s ? `${s.summary.n}` : '-',
        s ? ms(s.summary.p50) : '-',
        s ? ms(s.summary.p99) : '-',
        s ? ratio(s.summary.p50 / p.summary.p50) : '-',
      ]);
    }
  }
  out.push(
    table(
      [
        'documents',
        'operation',
        'n',
        'patched p50',
        'patched p99',
        'n',
        'stock p50',
        'stock p99',
        'stock / patched (p50)',
      ],
      rows,
    ),
    '',
  );
  const [smallest, largest] = [r.sizes[0]!, r.sizes[r.sizes.length - 1]!];
  const lines = metrics.map((metric) => {
    const a = find(smallest, metric, 'patched');
    const b = find(largest, metric, 'patched');
    return a && b
      ? `${metric}: p99 ${ms(b.summary.p99)} at ${largest.toLocaleString('en-US')}, ${ratio(b.summary.p99 / a.summary.p99)} its p99 at ${smallest.toLocaleString('en-US')}`
      : '';
  });
  out.push(
    `Patched build, from ${smallest.toLocaleString('en-US')} to ${largest.toLocaleString('en-US')} documents:`,
    '',
    ...lines.filter(Boolean).map((l) => `- ${l}`),
    '',
  );
  return out;
}

/** One summary line: the patched build's worst list p99 at the largest size, and status / mirror write p99 there. */
export function storeSummary(r: StoreResult, ms: (v: number) => string): [string, string] | undefined {
  const largest = r.sizes[r.sizes.length - 1]!;
  const at = r.rows.filter((x) => x.docs === largest && x.build === 'patched');
  const list = at.filter((x) => x.metric.startsWith('list')).reduce((m, x) => Math.max(m, x.summary.p99), 0);
  const status = at.find((x) => x.metric.startsWith('status'));
  const write = at.find((x) => x.metric.startsWith('mirror write'));
  if (!status || !write) return undefined;
  return [
    `embedded store at ${largest.toLocaleString('en-US')} tasks, patched FerretDB (p99)`,
    `list ≤ ${ms(list)} (any filter), status ${ms(status.summary.p99)}, mirror write ${ms(write.summary.p99)}`,
  ];
}
