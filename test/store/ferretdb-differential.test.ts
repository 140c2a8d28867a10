// The patched FerretDB build answers equality, sort and limit from SQLite indexes; the unpatched
// build of the same version filters and sorts everything itself. Both run the same seeded, randomized
// workload — inserts, upserts, version-guarded updates, deletes, and finds with equality filters on
// present, missing, null, array and mixed-type fields, sorted either way with ties and missing values,
// and comparisons on a sort field as a page boundary, with and without limits — and every answer must
// be the same.
//
// Documents tied on every sort key may come back in any order (MongoDB leaves it open, and FerretDB
// sorts with an unstable sort); everything else is compared exactly. Sort fields hold what the
// pushdown orders like MongoDB (strings without characters below '#' or JSON escapes, and missing
// values) plus values that must turn it off (numbers, null, arrays).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BSON, MongoClient, MongoServerError, ObjectId, type Collection, type Document } from 'mongodb';
import { startFerretDb, type RunningStore } from '../../src/infra/ferretdb-server';
import { FERRETDB_STOCK } from '../../src/infra/tool-paths';
import { seeded } from '../support/seeded-random';

interface Side {
  server: RunningStore;
  client: MongoClient;
}

let scratch: string;
const sides: Side[] = [];

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ferretdb-differential-'));
  for (const [name, binary] of [
    ['patched', undefined],
    ['stock', FERRETDB_STOCK],
  ] as const) {
    const server = await startFerretDb({
      dataDir: path.join(scratch, name),
      logFile: path.join(scratch, `${name}.log`),
      binary,
    });
    sides.push({ server, client: await MongoClient.connect(server.uri, { serverSelectionTimeoutMS: 10_000 }) });
  }
});

afterAll(async () => {
  for (const { server, client } of sides) {
    await client.close();
    await server.stop();
  }
  fs.rmSync(scratch, { recursive: true, force: true });
});

const OIDS = [new ObjectId('65a000000000000000000001'), new ObjectId('65a000000000000000000002')];
const IDS: unknown[] = [...Array.from({ length: 40 }, (_, i) => `id-${String(i).padStart(2, '0')}`), ...OIDS, 'x-last'];
const TIMES = Array.from({ length: 8 }, (_, i) => `2026-03-0${1 + (i % 4)}T10:00:0${i}.000Z`);
const S = ['a', 'b', 'c', null, ['a', 'x'], ['b'], 5, true, 'a b', 'A'];
const B = [true, false, 'true', 1];
const T = ['plain', 'with space', 'quo"te', 'back\\slash', '<tag>&', 'ünï', '', 'plain'];
const O = [...OIDS, OIDS[0].toHexString()];
const ABSENT = Symbol('absent');
/** Values that turn the sort pushdown off: it must then still answer right. */
const C_MIXED = [7, null, ['2026-03-02T10:00:00.000Z', '2026-03-09T00:00:00.000Z']];

type Random = () => number;
const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const chance = (r: Random, p: number) => r() < p;

function field(r: Random, values: readonly unknown[], absentP = 0.15): unknown {
  return chance(r, absentP) ? ABSENT : pick(r, values);
}

function makeDoc(r: Random, id: unknown, mixedSort: boolean): Document {
  const doc: Document = { _id: id };
  const put = (k: string, v: unknown) => {
    if (v !== ABSENT) doc[k] = v;
  };
  put('s', field(r, S));
  put('b', field(r, B));
  put('t', field(r, T));
  put('o', field(r, O));
  put('c', mixedSort && chance(r, 0.1) ? pick(r, C_MIXED) : field(r, TIMES, 0.1));
  doc.v = Math.floor(r() * 5);
  doc.pad = 'p'.repeat(Math.floor(r() * 300));
  return doc;
}

function randomFilter(r: Random): Document {
  const filter: Document = {};
  if (chance(r, 0.5)) filter.s = pick(r, [...S, 'nope']);
  if (chance(r, 0.25)) filter.b = pick(r, B);
  if (chance(r, 0.2)) filter.t = pick(r, T);
  if (chance(r, 0.2)) filter.o = pick(r, O);
  if (chance(r, 0.15)) filter._id = pick(r, IDS);
  // A page boundary, as cursor pagination asks for it.
  if (chance(r, 0.25)) filter.c = { [pick(r, ['$lt', '$lte', '$gt', '$gte'])]: pick(r, [...TIMES, '2026-03-02']) };
  return filter;
}

const SORTS: (Document | undefined)[] = [
  undefined,
  { c: 1 },
  { c: -1 },
  { c: -1, _id: -1 },
  { c: 1, _id: 1 },
  { _id: 1 },
  { _id: -1 },
  { c: -1, s: 1 },
];
const LIMITS = [0, 1, 3, 10, 50];

/** The value MongoDB sorts a document by for one key: missing is null; an array sorts by its least (ascending) or greatest element. */
function sortValue(doc: Document, key: string, dir: number): unknown {
  const v = doc[key];
  if (v === undefined) return null;
  if (!Array.isArray(v)) return v;
  const sorted = [...v].sort();
  return dir > 0 ? sorted[0] : sorted[sorted.length - 1];
}

const ejson = (v: unknown) => BSON.EJSON.stringify(v as Document, { relaxed: false });

/** Same sort keys in the same order; the same documents within each tie group (the last group may be cut by a limit). */
function expectSameSorted(
  patched: Document[],
  stock: Document[],
  sort: Document,
  limited: boolean,
  context: string,
): void {
  const key = (d: Document) => ejson(Object.entries(sort).map(([k, dir]) => sortValue(d, k, dir as number)));
  expect({ context, keys: patched.map(key) }).toEqual({ context, keys: stock.map(key) });
  const groups = (docs: Document[]) => {
    const out: string[][] = [];
    docs.forEach((d, i) => {
      if (i === 0 || key(d) !== key(docs[i - 1])) out.push([]);
      out[out.length - 1].push(ejson(d));
    });
    return out.map((g) => g.sort());
  };
  const [gp, gs] = [groups(patched), groups(stock)];
  const compared = limited ? gp.length - 1 : gp.length;
  expect({ context, groups: gp.slice(0, compared) }).toEqual({ context, groups: gs.slice(0, compared) });
}

async function both<T>(op: (c: Collection) => Promise<T>, coll: string): Promise<unknown[]> {
  return Promise.all(
    sides.map(async ({ client }) => {
      try {
        return await op(client.db('differential').collection(coll));
      } catch (err) {
        if (err instanceof MongoServerError) return { error: err.code };
        throw err;
      }
    }),
  );
}

async function runWorkload(
  seed: number,
  coll: string,
  options: { indexed: boolean; mixedSort: boolean; ops: number },
): Promise<Record<string, number>> {
  const r = seeded(seed);
  const counts: Record<string, number> = {};
  if (options.indexed) {
    for (const key of [{ s: 1 }, { b: 1 }, { t: 1 }, { o: 1 }, { c: -1 }, { s: 1, c: -1 }] as Document[]) {
      await both((c) => c.createIndex(key), coll);
    }
  }
  for (let i = 0; i < 25; i++) {
    const doc = makeDoc(r, pick(r, IDS), options.mixedSort);
    await both((c) => c.insertOne({ ...doc }), coll);
  }

  for (let i = 0; i < options.ops; i++) {
    const roll = r();
    const id = pick(r, IDS);
    let kind: string;
    let op: (c: Collection) => Promise<unknown>;
    if (roll < 0.12) {
      kind = 'insert';
      const doc = makeDoc(r, id, options.mixedSort);
      op = (c) => c.insertOne({ ...doc });
    } else if (roll < 0.3) {
      kind = 'guarded upsert';
      const { _id, ...rest } = makeDoc(r, id, options.mixedSort);
      const version = Math.floor(r() * 6);
      op = (c) => c.updateOne({ _id, v: { $lt: version } }, { $set: { ...rest, v: version } }, { upsert: true });
    } else if (roll < 0.4) {
      kind = 'versioned update';
      const set = { s: pick(r, S), c: pick(r, TIMES) };
      const version = Math.floor(r() * 5);
      op = (c) => c.updateOne({ _id: id, v: version } as Document, { $set: set, $inc: { v: 1 } });
    } else if (roll < 0.45) {
      kind = 'update many';
      const filter = randomFilter(r);
      const set = { c: pick(r, TIMES) };
      op = (c) => c.updateMany(filter, { $set: set });
    } else if (roll < 0.5) {
      kind = 'delete';
      const filter = chance(r, 0.7) ? { _id: id } : randomFilter(r);
      const one = chance(r, 0.5);
      op = (c) => (one ? c.deleteOne(filter) : c.deleteMany(filter));
    } else {
      // a find is checked here and counted below
      const filter = randomFilter(r);
      const sort = pick(r, SORTS);
      const limit = pick(r, LIMITS);
      const [patched, stock] = (await both((c) => c.find(filter, { sort, limit }).toArray(), coll)) as Document[][];
      const context = `seed ${seed} op ${i}: find ${ejson(filter)} sort ${JSON.stringify(sort)} limit ${limit}`;
      if (sort) expectSameSorted(patched, stock, sort, limit > 0 && stock.length === limit, context);
      else expect({ context, docs: patched.map(ejson) }).toEqual({ context, docs: stock.map(ejson) });
      counts.find = (counts.find ?? 0) + 1;
      continue;
    }
    const [patched, stock] = await both(op, coll);
    expect({ seed, op: i, kind, result: patched }).toEqual({ seed, op: i, kind, result: stock });
    counts[kind] = (counts[kind] ?? 0) + 1;
  }

  const [patched, stock] = (await both((c) => c.find({}).toArray(), coll)) as Document[][];
  expect(patched.map(ejson)).toEqual(stock.map(ejson));
  return counts;
}

test.each([
  [101, true, false],
  [202, true, true],
  [303, false, true],
  [404, true, false],
])(
  'seed %i (indexes: %s, mixed-type sort field: %s): patched and unpatched FerretDB answer alike',
  async (seed, indexed, mixedSort) => {
    const counts = await runWorkload(seed, `w${seed}`, { indexed, mixedSort, ops: 300 });
    // The workload really exercised every kind of operation.
    expect(Object.keys(counts).sort()).toEqual([
      'delete',
      'find',
      'guarded upsert',
      'insert',
      'update many',
      'versioned update',
    ]);
  },
);
