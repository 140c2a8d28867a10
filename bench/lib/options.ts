// Benchmark sizes: flags first, then BENCH_* environment variables, then the defaults of a full
// run (about 17 minutes on a shared 2-core machine). `--quick` shrinks everything for a smoke run.
//   node dist/bench/run.js [--quick] [--only latency,overhead,throughput,rss,list] [--out FILE]
//       [--latency-samples-1 N] [--latency-rounds-20 N] [--latency-rounds-100 N]
//       [--watcher-intervals 1000,5000] [--stand-in-ms N] [--overhead-samples N]
//       [--throughput-tasks N] [--throughput-concurrency 1,2,4,8] [--ceiling-tasks N] [--ceiling-repeats N]
//       [--rss-rounds N] [--rss-tasks N] [--list-docs N] [--list-budget-s N] [--list-queries N]
//       [--store-docs N] [--store-samples N] [--store-stock-budget-s N]

export const SECTIONS = ['latency', 'overhead', 'throughput', 'rss', 'list', 'store'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  quick: boolean;
  only: Set<Section>;
  out: string | null;
  /** Sequential samples at concurrency 1 (bridge); the watcher takes fewer (its samples cost seconds). */
  latencySamples1: number;
  latencyRounds20: number;
  latencyRounds100: number;
  watcherIntervalsMs: number[];
  /** The stand-in Codex turn's fixed duration. */
  standInMs: number;
  overheadSamples: number;
  throughputTasks: number;
  throughputConcurrency: number[];
  ceilingTasks: number;
  /** Alternating runs of bare Temporal and the bridge-only ceiling; each row reports the median. */
  ceilingRepeats: number;
  rssRounds: number;
  rssTasks: number;
  listDocs: number;
  listBudgetS: number;
  listQueries: number;
  storeDocs: number;
  storeSamples: number;
  storeStockBudgetS: number;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}: flags look like --name value`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (name === 'quick' || name === 'help') flags.set(name, 'true');
    else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      flags.set(name, value);
    }
  }
  if (flags.has('help')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const quick = flags.has('quick') || env.BENCH_QUICK === '1';
  const get = (name: string): string | undefined =>
    flags.get(name) ?? env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  const int = (name: string, full: number, small: number): number => {
    const raw = get(name);
    if (raw === undefined) return quick ? small : full;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${raw}`);
    return n;
  };
  const list = (name: string, full: number[], small: number[]): number[] => {
    const raw = get(name);
    if (raw === undefined) return quick ? small : full;
    const values = raw.split(',').map(Number);
    if (values.some((v) => !Number.isInteger(v) || v <= 0))
      throw new Error(`--${name} must be a comma-separated list of positive integers, got ${raw}`);
    return values;
  };
  const onlyRaw = get('only');
  const only = new Set<Section>(onlyRaw ? (onlyRaw.split(',') as Section[]) : SECTIONS);
  for (const s of only)
    if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section ${s}; sections: ${SECTIONS.join(', ')}`);
  const out = get('out');
  return {
    quick,
    only,
    out: out === '-' ? null : (out ?? 'BENCHMARKS.md'),
    latencySamples1: int('latency-samples-1', 30, 8),
    latencyRounds20: int('latency-rounds-20', 5, 1),
    latencyRounds100: int('latency-rounds-100', 2, 1),
    watcherIntervalsMs: list('watcher-intervals', [1000, 5000], [1000]),
    standInMs: int('stand-in-ms', 50, 50),
    overheadSamples: int('overhead-samples', 15, 4),
    throughputTasks: int('throughput-tasks', 32, 8),
    throughputConcurrency: list('throughput-concurrency', [1, 2, 4, 8], [1, 4]),
    ceilingTasks: int('ceiling-tasks', 200, 40),
    ceilingRepeats: int('ceiling-repeats', 3, 1),
    rssRounds: int('rss-rounds', 2, 1),
    rssTasks: int('rss-tasks', 20, 20),
    listDocs: int('list-docs', 100_000, 5_000),
    listBudgetS: int('list-budget-s', 600, 120),
    listQueries: int('list-queries', 30, 10),
    storeDocs: int('store-docs', 100_000, 2_000),
    storeSamples: int('store-samples', 200, 30),
    storeStockBudgetS: int('store-stock-budget-s', 10, 3),
  };
}

const HELP = `codex-bridge benchmarks (npm run bench -- [flags]); every flag also reads BENCH_<NAME>:
  --quick                          small sizes (smoke run, a few minutes)
  --only a,b                       sections: ${SECTIONS.join(', ')}
  --out FILE                       where the report goes (default BENCHMARKS.md; "-" = nowhere)
  --latency-samples-1 N            sequential tasks at concurrency 1 (default 30; the watcher takes every 3rd)
  --latency-rounds-20 N            rounds of 20 concurrent tasks (default 5)
  --latency-rounds-100 N           rounds of 100 concurrent tasks (default 2)
  --watcher-intervals 1000,5000    poll intervals of the polling watcher, ms
  --stand-in-ms N                  duration of the stand-in Codex turn (default 50)
  --overhead-samples N             one-message tasks per path (default 15)
  --throughput-tasks N             real-Codex tasks per concurrency setting (default 32)
  --throughput-concurrency 1,2,4,8 worker activity slots to try
  --ceiling-tasks N                stand-in tasks for the bridge-only ceiling and bare Temporal (default 200)
  --ceiling-repeats N              alternating runs of both; each row is the median (default 3)
  --rss-rounds N --rss-tasks N     worker RSS rounds and concurrent tasks (default 2 × 20)
  --list-docs N                    task documents for the list benchmark (default 100000)
  --list-budget-s N                give up seeding after this long and measure what is there (default 600)
  --list-queries N                 timed queries per kind and size (default 30)
  --store-docs N                   task documents for the patched-vs-stock store comparison (default 100000)
  --store-samples N                timed operations per metric, size and build (default 200)
  --store-stock-budget-s N         time per metric and size on the stock build, at least one operation (default 10)
`;
