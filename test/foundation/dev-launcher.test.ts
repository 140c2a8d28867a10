// `codex-bridge dev` for real: a Temporal dev server with Web UI and search attributes, FerretDB,
// and stand-ins for the worker and the API (so this does not depend on the CLI), on free ports and a
// scratch data directory, separate from the servers the global setup shares with other suites.
// The launcher runs as its own process where signals matter (Ctrl-C, a SIGKILLed launcher), and
// in-process where an AbortSignal or a failure is enough.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../../src/config';
import { runDev, type DevOptions, type DevReady } from '../../src/dev/launcher';
import { killRecordedChildren, readRunRecord } from '../../src/dev/pid-file';
import { freePort } from '../../src/infra/free-port';
import { TEMPORAL_CLI } from '../../src/infra/tool-paths';

const ROOT = path.resolve(__dirname, '../..');
const SEARCH_ATTRIBUTES = ['CodexTaskStatus', 'NotificationStatus', 'NotifyTarget'];
const exec = promisify(execFile);

let scratch: string;
let fakeWorker: string;
let fakeApi: string;
let launcherScript: string;
const launchers: ChildProcess[] = [];
const dataDirs: string[] = [];

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(process.env.CODEX_BRIDGE_TEST_SCRATCH ?? os.tmpdir(), 'dev-launcher-'));
  // Stand-in worker: records the environment it was given, then idles — with "ignore-sigterm" it
  // will not stop when asked; with "exit-after-api" it dies with code 3 once the API is up (the
  // launcher must notice and stop everything).
  fakeWorker = write(
    'fake-worker.js',
    `
    const fs = require('fs'), net = require('net');
    if (process.argv[3] === 'ignore-sigterm') process.on('SIGTERM', () => {});
    const pick = ['TEMPORAL_ADDRESS', 'MONGODB_URI', 'CODEX_BRIDGE_API_ADDR', 'CODEX_BRIDGE_API_TOKEN', 'CODEX_BRIDGE_UI_URL'];
    fs.writeFileSync(process.argv[2] + '.tmp', JSON.stringify(Object.fromEntries(pick.map((k) => [k, process.env[k]]))));
    fs.renameSync(process.argv[2] + '.tmp', process.argv[2]); // whole or absent for the test reading it
    setInterval(() => {}, 1000);
    if (process.argv[3] === 'exit-after-api') {
      const [host, port] = process.env.CODEX_BRIDGE_API_ADDR.split(':');
      const poll = () => net.connect(+port, host).on('connect', () => setTimeout(() => process.exit(3), 1000)).on('error', () => setTimeout(poll, 100));
      poll();
    }
  `,
  );
  // Stand-in API: listens where CODEX_BRIDGE_API_ADDR says, like \`codex-bridge serve\`.
  fakeApi = write(
    'fake-api.js',
    `
    const [host, port] = process.env.CODEX_BRIDGE_API_ADDR.split(':');
    require('http').createServer((req, res) => res.end('fake api')).listen(+port, host);
  `,
  );
  // Runs the launcher's TypeScript sources in a separate node process (compiled on the fly with
  // the same swc Jest uses), so the test does not depend on an up-to-date dist/.
  launcherScript = write(
    'launcher.js',
    `
    const swc = require(${JSON.stringify(require.resolve('@swc/core'))});
    require.extensions['.ts'] = (module, filename) => {
      const { code } = swc.transformFileSync(filename, { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } });
      module._compile(code, filename);
    };
    const [workerEnvFile, workerMode, ...argv] = process.argv.slice(2);
    const node = process.execPath;
    const workerCommand = [node, ${JSON.stringify(fakeWorker)}, workerEnvFile, workerMode];
    require(${JSON.stringify(path.join(ROOT, 'src/dev/run-dev.ts'))})
      .runDevMain(argv, { overrides: { workerCommand, apiCommand: [node, ${JSON.stringify(fakeApi)}] } })
      .then((code) => (process.exitCode = code));
  `,
  );
});

afterAll(async () => {
  // Only on a failed test is anything still running; never leave it behind.
  for (const launcher of launchers)
    if (launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
  for (const dir of dataDirs) killRecordedChildren(path.join(dir, 'dev.pid'));
  if (!process.env.CODEX_BRIDGE_KEEP_TEST_FILES) fs.rmSync(scratch, { recursive: true, force: true });
});

describe('codex-bridge dev on its own servers', () => {
  let ports: { temporal: number; ui: number; store: number; api: number };
  let dataDir: string;
  let args: string[];

  beforeAll(async () => {
    ports = { temporal: await freePort(), ui: await freePort(), store: await freePort(), api: await freePort() };
    dataDir = newDataDir('persistent');
    args = [
      '--temporal-port',
      String(ports.temporal),
      '--ui-port',
      String(ports.ui),
      '--store-port',
      String(ports.store),
      '--api-addr',
      `127.0.0.1:${ports.api}`,
      '--data-dir',
      dataDir,
    ];
  });

  test('starts Temporal with its Web UI and search attributes, the store, worker and API; Ctrl-C stops every process', async () => {
    const launcher = startLauncher(args, 'run1-env.json');
    await launcher.waitFor(/codex-bridge dev is up/);

    const out = launcher.output();
    expect(out).toContain(`Temporal  127.0.0.1:${ports.temporal}`);
    expect(out).toContain(`Web UI    http://127.0.0.1:${ports.ui}`);
    expect(out).toContain(`MongoDB   mongodb://127.0.0.1:${ports.store}`);
    expect(out).toContain(`API       http://127.0.0.1:${ports.api}`);
    expect(out).toContain(`Data      ${dataDir}`);
    expect(out).toContain(path.join(dataDir, 'logs', 'worker.log'));

    const children = readRunRecord(path.join(dataDir, 'dev.pid'))!.children;
    expect(children.map((c) => c.name).sort()).toEqual(['api', 'ferretdb', 'temporal', 'worker']);

    const ui = await fetch(`http://127.0.0.1:${ports.ui}/`);
    expect(ui.status).toBe(200);
    expect(await searchAttributes(ports.temporal)).toEqual(expect.arrayContaining(SEARCH_ATTRIBUTES));

    // Written now, read by the next test after a restart: the SQLite files must survive.
    await withStore(ports.store, (c) => c.insertOne({ _id: 'written-in-run-1', n: 1 }));
    await temporal(
      'operator',
      'namespace',
      'create',
      '--namespace',
      'dev-persistence',
      '--address',
      `127.0.0.1:${ports.temporal}`,
    );

    await waitUntil(() => fs.existsSync(path.join(scratch, 'run1-env.json')));
    const workerEnv = JSON.parse(fs.readFileSync(path.join(scratch, 'run1-env.json'), 'utf8'));
    expect(workerEnv).toEqual({
      TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
      MONGODB_URI: `mongodb://127.0.0.1:${ports.store}`,
      CODEX_BRIDGE_API_ADDR: `127.0.0.1:${ports.api}`,
      CODEX_BRIDGE_API_TOKEN: fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim(),
      CODEX_BRIDGE_UI_URL: `http://127.0.0.1:${ports.ui}`,
    });
    expect(await (await fetch(`http://127.0.0.1:${ports.api}/`)).text()).toBe('fake api');

    launcher.process.kill('SIGINT');
    expect(await launcher.exited).toBe(0);
    expect(launcher.output()).toContain('codex-bridge dev stopped');
    await expectAllGone(children.map((c) => c.pid));
    expect(fs.existsSync(path.join(dataDir, 'dev.pid'))).toBe(false);
  }, 180_000);

  test('starts again on the same data directory with its data, also after the launcher itself was SIGKILLed', async () => {
    const second = startLauncher(args, 'run2-env.json');
    await second.waitFor(/codex-bridge dev is up/);
    expect(await withStore(ports.store, (c) => c.findOne({ _id: 'written-in-run-1' }))).toEqual({
      _id: 'written-in-run-1',
      n: 1,
    });
    await temporal(
      'operator',
      'namespace',
      'describe',
      '--namespace',
      'dev-persistence',
      '--address',
      `127.0.0.1:${ports.temporal}`,
    );

    // A crash of the launcher: its children, each in its own process group, are left running.
    const orphans = readRunRecord(path.join(dataDir, 'dev.pid'))!.children;
    second.process.kill('SIGKILL');
    await second.exited;
    expect(
      orphans
        .filter((c) => isRunning(c.pid))
        .map((c) => c.name)
        .sort(),
    ).toEqual(['api', 'ferretdb', 'temporal', 'worker']);

    const third = startLauncher(args, 'run3-env.json');
    await third.waitFor(/codex-bridge dev is up/);
    expect(third.output()).toMatch(
      /stopping temporal \(pid \d+\), left running by a previous codex-bridge dev that did not exit cleanly/,
    );
    await expectAllGone(orphans.map((c) => c.pid));
    expect(await withStore(ports.store, (c) => c.findOne({ _id: 'written-in-run-1' }))).toEqual({
      _id: 'written-in-run-1',
      n: 1,
    });
    expect(await searchAttributes(ports.temporal)).toEqual(expect.arrayContaining(SEARCH_ATTRIBUTES));

    const children = readRunRecord(path.join(dataDir, 'dev.pid'))!.children;
    third.process.kill('SIGINT');
    expect(await third.exited).toBe(0);
    await expectAllGone(children.map((c) => c.pid));
  }, 240_000);
});

describe('codex-bridge dev with your own servers', () => {
  test('a second Ctrl-C while stopping kills every child at once', async () => {
    const env = {
      ...localEnv(),
      TEMPORAL_ADDRESS: requireEnv('TEMPORAL_ADDRESS'),
      MONGODB_URI: requireEnv('MONGODB_URI'),
    };
    const dataDir = newDataDir('stubborn');
    const launcher = startLauncher(
      ['--api-addr', `127.0.0.1:${await freePort()}`, '--data-dir', dataDir],
      'stubborn-env.json',
      { env, workerMode: 'ignore-sigterm' },
    );
    await launcher.waitFor(/codex-bridge dev is up/);
    const children = readRunRecord(path.join(dataDir, 'dev.pid'))!.children;
    expect(children.map((c) => c.name).sort()).toEqual(['api', 'worker']);
    await waitUntil(() => fs.existsSync(path.join(scratch, 'stubborn-env.json'))); // its SIGTERM handler is set

    launcher.process.kill('SIGINT');
    await launcher.waitFor(/stopping everything/);
    await sleep(300); // the worker has its SIGTERM now, and ignores it
    expect(isRunning(children.find((c) => c.name === 'worker')!.pid)).toBe(true);
    launcher.process.kill('SIGINT');
    expect(await launcher.exited).toBe(130);
    await expectAllGone(children.map((c) => c.pid));
  });
});

describe('codex-bridge dev in-process', () => {
  test('a port held by another process is refused with one sentence, before anything starts', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    const dataDir = newDataDir('port-taken');
    try {
      await expect(
        runDev(loadConfig(localEnv()), { ...(await inProcessOptions(dataDir, 'taken-env.json')), temporalPort: taken }),
      ).rejects.toThrow(`port ${taken} (Temporal) is in use by another process: stop it or set TEMPORAL_ADDRESS.`);
    } finally {
      holder.close();
    }
    expect(fs.existsSync(path.join(dataDir, 'logs', 'temporal.log'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'dev.pid'))).toBe(false);
  });

  test('with TEMPORAL_ADDRESS and MONGODB_URI set it starts only the worker and the API, pointed at them; aborting stops both', async () => {
    const env = {
      ...localEnv(),
      TEMPORAL_ADDRESS: requireEnv('TEMPORAL_ADDRESS'),
      MONGODB_URI: requireEnv('MONGODB_URI'),
    };
    const controller = new AbortController();
    let ready: DevReady | undefined;
    const options = await inProcessOptions(newDataDir('external'), 'external-env.json');
    const run = runDev(loadConfig(env), { ...options, env, signal: controller.signal, onReady: (r) => (ready = r) });
    await waitUntil(() => ready !== undefined && fs.existsSync(path.join(scratch, 'external-env.json')));

    expect(ready!.temporal.pid).toBeUndefined();
    expect(ready!.store.pid).toBeUndefined();
    const workerEnv = JSON.parse(fs.readFileSync(path.join(scratch, 'external-env.json'), 'utf8'));
    expect(workerEnv.TEMPORAL_ADDRESS).toBe(env.TEMPORAL_ADDRESS);
    expect(workerEnv.MONGODB_URI).toBe(env.MONGODB_URI);

    controller.abort();
    await expect(run).resolves.toBeUndefined();
    await expectAllGone([ready!.worker.pid!, ready!.api.pid!]);
  });

  test('a child that dies stops everything and the run fails naming it and its log', async () => {
    const env = {
      ...localEnv(),
      TEMPORAL_ADDRESS: requireEnv('TEMPORAL_ADDRESS'),
      MONGODB_URI: requireEnv('MONGODB_URI'),
    };
    let ready: DevReady | undefined;
    const options = await inProcessOptions(newDataDir('worker-dies'), 'dying-env.json');
    options.workerCommand!.push('exit-after-api');
    await expect(runDev(loadConfig(env), { ...options, env, onReady: (r) => (ready = r) })).rejects.toThrow(
      /^the worker exited unexpectedly \(exit code 3\): its log is .*\/logs\/worker\.log\.$/,
    );
    expect(ready).toBeDefined();
    await expectAllGone([ready!.worker.pid!, ready!.api.pid!]);
  });
});

// ---- helpers ----------------------------------------------------------------------------------

function write(name: string, text: string): string {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, text);
  return file;
}

function newDataDir(name: string): string {
  const dir = path.join(scratch, `data-${name}`);
  dataDirs.push(dir);
  return dir;
}

/** The environment without the shared test servers: the launcher must start its own. */
function localEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TEMPORAL_ADDRESS;
  delete env.MONGODB_URI;
  return env;
}

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v)
    throw new Error(
      `${name} is not set: run through ./scripts/test or npx jest (the global setup starts the servers).`,
    );
  return v;
}

async function inProcessOptions(dataDir: string, workerEnvFile: string): Promise<DevOptions> {
  return {
    dataDir,
    temporalPort: await freePort(),
    uiPort: await freePort(),
    storePort: await freePort(),
    apiAddr: `127.0.0.1:${await freePort()}`,
    env: localEnv(),
    workerCommand: [process.execPath, fakeWorker, path.join(scratch, workerEnvFile)],
    apiCommand: [process.execPath, fakeApi],
    log: () => undefined,
  };
}

interface Launcher {
  process: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

function startLauncher(
  args: string[],
  workerEnvFile: string,
  options: { env?: NodeJS.ProcessEnv; workerMode?: string } = {},
): Launcher {
  const launcherArgs = [launcherScript, path.join(scratch, workerEnvFile), options.workerMode ?? 'idle', ...args];
  const child = spawn(process.execPath, launcherArgs, {
    cwd: ROOT,
    env: options.env ?? localEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  launchers.push(child);
  let text = '';
  child.stdout!.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (text += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    exited,
    output: () => text,
    waitFor: async (pattern, timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(
            `the launcher exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${text}`,
          );
        if (Date.now() > deadline)
          throw new Error(`the launcher did not print ${pattern} within ${timeoutMs} ms:\n${text}`);
        await sleep(100);
      }
    },
  };
}

async function searchAttributes(port: number): Promise<string[]> {
  const out = await temporal('operator', 'search-attribute', 'list', '--address', `127.0.0.1:${port}`);
  return out.split('\n').map((line) => line.trim().split(/\s+/)[0] ?? '');
}

async function temporal(...args: string[]): Promise<string> {
  return (await exec(TEMPORAL_CLI, args, { timeout: 30_000 })).stdout;
}

async function withStore<T>(
  port: number,
  use: (c: import('mongodb').Collection<{ _id: string; n: number }>) => Promise<T>,
): Promise<T> {
  const client = await MongoClient.connect(`mongodb://127.0.0.1:${port}`, { serverSelectionTimeoutMS: 10_000 });
  try {
    return await use(client.db('codex_bridge').collection<{ _id: string; n: number }>('dev_launcher_test'));
  } finally {
    await client.close();
  }
}

// ---- the process table, read independently of the launcher's own helpers ----------------------

interface ProcEntry {
  pid: number;
  state: string;
  pgid: number;
}

function processTable(): ProcEntry[] {
  const entries: ProcEntry[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      entries.push({ pid: Number(name), state: fields[0]!, pgid: Number(fields[2]) });
    } catch {
      /* exited while listing */
    }
  }
  return entries;
}

/** Alive = in the table and not a zombie (an exited process its new parent has not reaped yet). */
function isRunning(pid: number): boolean {
  return processTable().some((p) => p.pid === pid && p.state !== 'Z');
}

/** Every pid, and every member of the process group each one led, is gone (waits up to 10 s for reaping). */
async function expectAllGone(pids: number[]): Promise<void> {
  const survivors = () =>
    processTable().filter((p) => p.state !== 'Z' && (pids.includes(p.pid) || pids.includes(p.pgid)));
  const deadline = Date.now() + 10_000;
  while (survivors().length > 0 && Date.now() < deadline) await sleep(100);
  expect(survivors()).toEqual([]);
}

async function waitUntil(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
