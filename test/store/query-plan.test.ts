// Every SQL statement the embedded store runs for the bridge's hot paths — list (each filter, first
// page and next), status, mirror writes (new, newer, stale) and the watcher's version-guarded update —
// is read from FerretDB's debug log and planned by SQLite on the data file: each one reads the tasks
// table through an index, never by scanning it.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { newTaskDocument, type TaskDocument } from '../../src/contract/task';
import { startFerretDb, type RunningStore } from '../../src/infra/ferretdb-server';
import { FERRETDB } from '../../src/infra/tool-paths';
import { decodeListCursor } from '../../src/store/list-cursor';
import { TaskStore } from '../../src/store/task-store';

let scratch: string;
let server: RunningStore | undefined;

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'store-plan-'));
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

function task(i: number): TaskDocument {
  return {
    ...newTaskDocument({
      task_id: `plan-${i}`,
      prompt: `prompt ${i}`,
      cwd: '/work',
      model: null,
      sandbox: 'workspace-write',
      approval_policy: 'never',
      notify_target: i % 2 ? 'local' : 'feishu:oc_plan',
      created_at: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    }),
    status: i % 3 ? 'completed' : 'failed',
    notification_status: i % 3 ? 'sent' : 'failed',
  };
}

interface Statement {
  sql: string;
  args: unknown[];
}

/** The statements FerretDB logged (`>>> SQL` with its arguments) from byte `from` of its log on. */
function loggedStatements(logFile: string, from: number): Statement[] {
  const text = fs.readFileSync(logFile, 'utf8').slice(from);
  const out: Statement[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; args?: unknown[] };
    if (entry.msg?.startsWith('>>> ')) out.push({ sql: entry.msg.slice(4), args: entry.args ?? [] });
  }
  return out;
}

function plan(dbFile: string, { sql, args }: Statement): string[] {
  return execFileSync(FERRETDB, ['explain-plan', dbFile, sql, JSON.stringify(args)], { encoding: 'utf8' })
    .trim()
    .split('\n');
}

test('list, status and mirror writes read the tasks table only through its indexes', async () => {
  const dataDir = path.join(scratch, 'data');
  const logFile = path.join(scratch, 'ferretdb.log');
  server = await startFerretDb({ dataDir, logFile, debugLog: true });
  const store = await TaskStore.connect(server.uri, 'codex_bridge');
  const from = { offset: 0 };
  try {
    for (let i = 0; i < 120; i++) await store.applyMirror(task(i));
    from.offset = fs.statSync(logFile).size;

    const first = await store.list({ limit: 10 });
    await store.list({ limit: 10, before: decodeListCursor(first.next_cursor!)! });
    await store.list({ status: 'failed', limit: 10 });
    await store.list({ notification_status: 'sent', limit: 10 });
    const byTarget = await store.list({ notify_target: 'local', limit: 10 });
    await store.list({ notify_target: 'local', limit: 10, before: decodeListCursor(byTarget.next_cursor!)! });
    expect(await store.get('plan-7')).not.toBeNull();
    expect(await store.applyMirror({ ...task(7), version: 5 })).toBe('applied');
    expect(await store.applyMirror({ ...task(7), version: 4 })).toBe('stale');
    expect(await store.applyMirror(task(500))).toBe('applied');
    expect(await store.updateIfVersion('plan-7', 5, { notification_status: 'sent' })).toBe(true);
  } finally {
    await store.close();
    await server.stop();
    server = undefined;
  }

  const statements = loggedStatements(logFile, from.offset);
  const table = /FROM "(tasks_[0-9a-f]+)"/.exec(statements.map((s) => s.sql).join('\n'))?.[1];
  expect(table).toBeDefined();
  const onTasks = statements.filter((s) => s.sql.includes(`"${table}"`) && /^\s*(SELECT|UPDATE|DELETE)/.test(s.sql));
  // The list pages, the lookups by id and the guarded updates all went through SQL.
  expect(onTasks.filter((s) => s.sql.startsWith('SELECT') && s.sql.includes('LIMIT')).length).toBeGreaterThanOrEqual(6);
  expect(onTasks.filter((s) => s.sql.startsWith('UPDATE')).length).toBeGreaterThanOrEqual(2);

  const dbFile = path.join(dataDir, 'codex_bridge.sqlite');
  const scans = onTasks
    .map((s) => ({ sql: s.sql, plan: plan(dbFile, s) }))
    .filter(({ plan: rows }) => rows.some((row) => new RegExp(`^SCAN ${table}$`).test(row.trim())));
  expect(scans).toEqual([]);
});
