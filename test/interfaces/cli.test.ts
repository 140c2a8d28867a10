// The CLI run in-process against a recording fake service: exit codes, --json documents, usage
// errors, the human renderings and the long-running `serve`.
import { formatAge, TABLE_HEADERS } from '../../src/cli/format';
import { runCli } from '../../src/cli/run-cli';
import { UnavailableError } from '../../src/errors';
import { FakeTaskService, makeTaskDocument } from './support/fake-task-service';
import { cli, onlyJson } from './support/run-cli';

const COMMANDS = [
  'start',
  'status',
  'list',
  'cancel',
  'approve',
  'answer',
  'reply',
  'notify-completed',
  'doctor',
  'worker',
  'serve',
  'dev',
];
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

let service: FakeTaskService;

beforeEach(() => {
  service = new FakeTaskService();
  service.tasks.set(
    'task-a',
    makeTaskDocument({
      task_id: 'task-a',
      status: 'waiting_for_input',
      notify_target: 'webhook:https://hooks.example.com/x?sig=SECRET',
      notification_status: 'pending',
      created_at: minutesAgo(3),
      pending_requests: [
        { request_id: 'req-1', kind: 'command_approval', summary: 'npm test', created_at: minutesAgo(1) },
      ],
    }),
  );
  service.tasks.set(
    'task-b',
    makeTaskDocument({
      task_id: 'task-b',
      status: 'completed',
      notify_target: 'local',
      notification_status: 'sent',
      created_at: minutesAgo(125),
    }),
  );
});

describe('start', () => {
  test('prints only the task id and sends exactly the flags given (relative --cwd resolved)', async () => {
    const run = await cli(
      [
        'start',
        '--prompt',
        'fix the tests',
        '--cwd',
        'repo',
        '--notify-target',
        'feishu:oc_1',
        '--sandbox',
        'read-only',
        '--approval-policy',
        'on-request',
        '--model',
        'gpt-5-codex',
        '--task-id',
        'fix-1',
      ],
      {
        service,
        cwd: '/home/u',
      },
    );
    expect(run).toMatchObject({ code: 0, stdout: 'fix-1\n', stderr: '' });
    expect(service.callsOf('start')).toEqual([
      [
        {
          prompt: 'fix the tests',
          cwd: '/home/u/repo',
          notify_target: 'feishu:oc_1',
          sandbox: 'read-only',
          approval_policy: 'on-request',
          model: 'gpt-5-codex',
          task_id: 'fix-1',
        },
      ],
    ]);
  });

  test('leaves out flags that were not given, so the service picks its defaults', async () => {
    await cli(['start', '--prompt', 'x'], { service });
    expect(service.callsOf('start')).toEqual([[{ prompt: 'x' }]]);
  });

  test('--json prints the task document as the one JSON document', async () => {
    const run = await cli(['start', '--prompt', 'x', '--task-id', 'j-1', '--json'], { service });
    expect(run.code).toBe(0);
    expect(onlyJson(run)).toMatchObject({ task_id: 'j-1', prompt: 'x', status: 'queued' });
  });

  test.each([
    [['start', '--prompt', '   '], /^codex-bridge: --prompt must not be blank\.$/],
    [['start', '--prompt', ''], /^codex-bridge: --prompt must not be empty\.$/],
    [
      ['start', '--prompt', 'x', '--notify-target', 'irc:#x'],
      /^codex-bridge: notify_target "irc:#x" is invalid: unknown kind "irc"/,
    ],
    [
      ['start', '--prompt', 'x', '--sandbox', 'none'],
      /^codex-bridge: --sandbox must be one of read-only, workspace-write, danger-full-access\.$/,
    ],
    [
      ['start', '--prompt', 'x', '--approval-policy', 'always'],
      /^codex-bridge: --approval-policy must be one of never, on-request, untrusted\.$/,
    ],
    [['start', '--prompt', 'x', '--task-id', 'no spaces'], /^codex-bridge: --task-id must be 1-128 letters/],
    [['status', 'bad/id'], /^codex-bridge: TASK_ID must be 1-128 letters/],
    [
      ['approve', 'task-a', 'req-1', '--decision', 'maybe'],
      /^codex-bridge: --decision must be one of accept, accept_for_session, decline, cancel\.$/,
    ],
    [['answer', 'task-a', 'req-1', '--answers', '{"q":"yes"}'], /^codex-bridge: --answers\.q must be an array\.$/],
    [['answer', 'task-a', 'req-1', '--answers', 'yes please'], /^codex-bridge: --answers is not valid JSON/],
    [['list', '--limit', '0'], /^codex-bridge: --limit must be at least 1\.$/],
    [['list', '--limit', '5000'], /^codex-bridge: --limit must be at most 1000\.$/],
    [['list', '--limit', 'abc'], /^codex-bridge: --limit must be a whole number from 1 to 1000\.$/],
    [['list', '--status', 'done'], /^codex-bridge: --status must be one of queued/],
    [['list', '--before', 'not-a-cursor'], /^codex-bridge: --before must be the next_cursor of an earlier list\.$/],
    [['reply', 'task-a', '--prompt', ' '], /^codex-bridge: --prompt must not be blank\.$/],
  ])('%j is a validation error: exit 2, one sentence, no service opened', async (argv, message) => {
    expectRefused(await cli(argv, { service }), message);
  });
});

describe('exit codes', () => {
  test('3 for an unknown task, 4 for a conflict, 1 for an unreachable service, 0 otherwise', async () => {
    expect((await cli(['status', 'nope'], { service })).code).toBe(3);
    expect((await cli(['cancel', 'nope'], { service })).code).toBe(3);
    expect((await cli(['start', '--prompt', 'x', '--task-id', 'task-a'], { service })).code).toBe(4);
    expect((await cli(['approve', 'task-a', 'req-9', '--decision', 'accept'], { service })).code).toBe(4);
    service.failNext.set(
      'list',
      new UnavailableError('Temporal at 127.0.0.1:7233 is unreachable: start it or set TEMPORAL_ADDRESS.'),
    );
    const unavailable = await cli(['list'], { service });
    expect(unavailable).toMatchObject({
      code: 1,
      stderr: 'codex-bridge: Temporal at 127.0.0.1:7233 is unreachable: start it or set TEMPORAL_ADDRESS.\n',
      stdout: '',
    });
    expect((await cli(['approve', 'task-a', 'req-1', '--decision', 'accept'], { service })).code).toBe(0);
  });

  test('a bad configuration is exit 2 with the sentence naming the variable', async () => {
    const run = await cli(['list'], { service, env: { TEMPORAL_ADDRESS: 'nowhere' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^codex-bridge: TEMPORAL_ADDRESS is invalid \("nowhere"\): must be host:port/);
    expect(run.servicesCreated).toBe(0);
  });

  test('an unexpected crash is exit 1 with one line, not a stack trace', async () => {
    service.failNext.set('status', new TypeError('x is not a function'));
    const run = await cli(['status', 'task-a'], { service });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('codex-bridge: Unexpected error: x is not a function.\n');
  });
});

describe('usage errors exit 2 with one sentence', () => {
  test.each([
    [
      ['start', '--prompt', 'x', '--bogus'],
      /^codex-bridge: Unknown option '--bogus'; see codex-bridge start --help\.$/,
    ],
    [['start'], /^codex-bridge: Required option '--prompt <text>' not specified; see codex-bridge start --help\.$/],
    [['status'], /^codex-bridge: Missing required argument 'TASK_ID'; see codex-bridge status --help\.$/],
    [['status', 'a', 'b'], /^codex-bridge: Too many arguments for 'status'/],
    [['approve', 'task-a', 'req-1'], /^codex-bridge: Required option '--decision <decision>' not specified/],
    [['stats'], /^codex-bridge: Unknown command 'stats' \(Did you mean status\?\); see codex-bridge --help\.$/],
    [['list', '--limit'], /^codex-bridge: Option '--limit <n>' argument missing; see codex-bridge list --help\.$/],
  ])('%j', async (argv, message) => {
    expectRefused(await cli(argv, { service }), message);
  });

  test('with --json the usage error is also the one JSON document on stdout', async () => {
    const run = await cli(['status', '--json'], { service });
    expect(run.code).toBe(2);
    expect(onlyJson(run)).toEqual({
      error: { code: 'usage_error', message: "Missing required argument 'TASK_ID'; see codex-bridge status --help." },
    });
  });

  test('no command at all prints the help to stderr and exits 2', async () => {
    const run = await cli([], { service });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: codex-bridge');
    expect(run.stdout).toBe('');
  });
});

describe('--json', () => {
  /* eslint-disable @typescript-eslint/no-explicit-any -- one row per command, each checking its own JSON shape */
  test.each([
    [['status', 'task-a', '--json'], 0, (d: any) => expect(d.task_id).toBe('task-a')],
    [['list', '--json'], 0, (d: any) => expect(d.tasks.map((t: any) => t.task_id)).toEqual(['task-a', 'task-b'])],
    [['cancel', 'task-a', '--json'], 0, (d: any) => expect(d).toEqual({ task_id: 'task-a', status: 'cancelling' })],
    [
      ['approve', 'task-a', 'req-1', '--decision', 'accept', '--json'],
      0,
      (d: any) => expect(d.pending_requests).toEqual([]),
    ],
    [
      ['answer', 'task-a', 'req-1', '--answers', '{"q1":["yes"]}', '--json'],
      0,
      (d: any) => expect(d.task_id).toBe('task-a'),
    ],
    [['reply', 'task-a', '--prompt', 'more', '--json'], 0, (d: any) => expect(d.task_id).toBe('task-a')],
    [['notify-completed', '--dry-run', '--json'], 0, (d: any) => expect(d).toMatchObject({ dry_run: true, items: [] })],
    [
      ['status', 'nope', '--json'],
      3,
      (d: any) => expect(d).toEqual({ error: { code: 'not_found', message: 'There is no task nope.' } }),
    ],
    [['start', '--prompt', 'x', '--task-id', 'task-a', '--json'], 4, (d: any) => expect(d.error.code).toBe('conflict')],
    [
      ['start', '--prompt', ' ', '--json'],
      2,
      (d: any) => expect(d.error).toEqual({ code: 'validation_error', message: '--prompt must not be blank.' }),
    ],
  ])('%j prints exactly one JSON document', async (argv, code, check) => {
    const run = await cli(argv as string[], { service });
    expect(run.code).toBe(code);
    check(onlyJson(run));
  });
  /* eslint-enable @typescript-eslint/no-explicit-any */

  test('every command accepts --json and its help shows examples', async () => {
    for (const command of COMMANDS) {
      const run = await cli([command, '--help'], { service });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('--json');
      expect(run.stdout).toMatch(/Examples:\n {2}\$ .*codex-bridge /);
    }
  });
});

describe('human output', () => {
  test('list is a table: header, one row per task newest first, ages like 3m and 2h, webhook queries hidden', async () => {
    const run = await cli(['list'], { service });
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]!.split(/\s{2,}/)).toEqual([...TABLE_HEADERS]);
    expect(lines[1]!.split(/\s{2,}/)).toEqual([
      'task-a',
      'waiting_for_input',
      'webhook:https://hooks.example.com/x?…',
      'pending',
      '3m',
    ]);
    expect(lines[2]!.split(/\s{2,}/)).toEqual(['task-b', 'completed', 'local', 'sent', '2h']);
    expect(run.stdout).not.toContain('SECRET');
    // Columns line up: every column starts at the same offset in every row.
    const starts = (line: string) => [...line.matchAll(/(?<=\s{2})\S/g)].map((m) => m.index);
    expect(starts(lines[1]!)).toEqual(starts(lines[0]!));
  });

  test('a page with more after it ends with the cursor for the next one, which --before takes back', async () => {
    const run = await cli(['list', '--limit', '1'], { service });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const cursor = /^More: --before (\S+)$/.exec(lines[2]!)?.[1];
    expect(cursor).toBeDefined();
    const json = onlyJson(await cli(['list', '--limit', '1', '--json'], { service }));
    expect(json).toMatchObject({ tasks: [{ task_id: 'task-a' }], next_cursor: cursor });
    const next = await cli(['list', '--limit', '1', '--before', cursor!], { service });
    expect(next.code).toBe(0);
    expect(service.callsOf('list')[2]).toEqual([
      { limit: 1, before: { created_at: service.tasks.get('task-a')!.created_at, task_id: 'task-a' } },
    ]);
  });

  test('an empty list says so', async () => {
    const run = await cli(['list', '--status', 'failed'], { service });
    expect(run.stdout).toBe('No tasks.\n');
    expect(service.callsOf('list')).toEqual([[{ status: 'failed' }]]);
  });

  test('status is a labelled block with the pending request', async () => {
    const run = await cli(['status', 'task-a'], { service });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^task {3,}task-a$/m);
    expect(run.stdout).toMatch(/^status {3,}waiting_for_input$/m);
    expect(run.stdout).toMatch(/^waiting {2,}req-1 \(command_approval\): npm test$/m);
    expect(run.stdout).toMatch(/^notify {3,}webhook:https:\/\/hooks\.example\.com\/x\?…, pending$/m);
  });

  test('status shows when a task paused at the usage limit resumes, and a worktree task its branch', async () => {
    service.tasks.set(
      'task-q',
      makeTaskDocument({
        task_id: 'task-q',
        status: 'waiting_for_quota',
        resumes_at: '2026-11-30T14:05:00.000Z',
        isolation: 'worktree',
        branch: 'codex/task-q',
        worktree: {
          path: '/wt/task-q',
          base_commit: 'abc',
          commits: [{ sha: 'f'.repeat(40), subject: 'Fix' }],
          uncommitted_diff_stat: null,
          removed: false,
        },
      }),
    );
    const run = await cli(['status', 'task-q'], { service });
    expect(run.stdout).toMatch(/^status {3,}waiting_for_quota \(resumes at 2026-11-30T14:05:00\.000Z\)$/m);
    expect(run.stdout).toMatch(/^branch {3,}codex\/task-q \(1 commit; worktree \/wt\/task-q\)$/m);
  });

  test('ages are compact', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    expect(formatAge('2025-01-01T11:59:15Z', now)).toBe('45s');
    expect(formatAge('2025-01-01T11:57:00Z', now)).toBe('3m');
    expect(formatAge('2025-01-01T10:00:00Z', now)).toBe('2h');
    expect(formatAge('2024-12-29T12:00:00Z', now)).toBe('3d');
    expect(formatAge(null, now)).toBe('-');
  });

  test('--help lists every command with examples and the exit codes', async () => {
    const run = await cli(['--help'], { service });
    expect(run.code).toBe(0);
    for (const command of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(run.stdout).toContain('Exit codes: 0 ok, 1 failed, 2 usage or validation error, 3 not found, 4 conflict.');
    expect(run.stdout).toContain('$ codex-bridge start --prompt');
  });
});

describe('serve', () => {
  test('serves the API with the configured token until stopped, answering /healthz from the service probe', async () => {
    const TOKEN = 'cli-serve-token-1';
    class ProbedService extends FakeTaskService {
      async health() {
        return { temporal: false, store: true };
      }
    }
    const probed = new ProbedService();
    probed.tasks.set('task-a', service.tasks.get('task-a')!);
    let stdout = '';
    let stderr = '';
    let closed = 0;
    const stop = new AbortController();
    const running = runCli(
      ['serve', '--json'],
      {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: { CODEX_BRIDGE_API_ADDR: '127.0.0.1:0', CODEX_BRIDGE_API_TOKEN: TOKEN, CODEX_BRIDGE_LOG_LEVEL: 'info' },
      },
      { createService: async () => ({ service: probed, close: async () => void (closed += 1) }), signal: stop.signal },
    );
    for (let i = 0; i < 100 && stdout === ''; i++) await new Promise((r) => setTimeout(r, 50));
    const { url } = JSON.parse(stdout) as { url: string };
    expect((await fetch(`${url}/v1/tasks/task-a`)).status).toBe(401);
    expect((await fetch(`${url}/v1/tasks/task-a`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({
      ok: false,
      error: { code: 'unavailable', message: 'Temporal is unreachable.' },
    });
    stop.abort();
    expect(await running).toBe(0);
    expect(closed).toBe(1);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    // Logs are JSON lines on stderr and never carry the token.
    const logs = stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['API listening', 'http request', 'API stopped']));
    expect(stderr).not.toContain(TOKEN);
  });

  test('refuses a non-loopback address without a token: exit 2, one sentence', async () => {
    const run = await cli(['serve'], { service, env: { CODEX_BRIDGE_API_ADDR: '0.0.0.0:0' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^codex-bridge: CODEX_BRIDGE_API_TOKEN is missing: the API would listen on 0\.0\.0\.0:0/,
    );
  });
});

test('dev hands its flags to the launcher, which validates them (nothing is started)', async () => {
  const run = await cli(['dev', '--temporal-port', 'seventy'], { service });
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/--temporal-port must be a port number between 1 and 65535/);
});

/** A refused command line: exit 2, one sentence on stderr, nothing on stdout, no service opened. */
function expectRefused(run: Awaited<ReturnType<typeof cli>>, message: RegExp): void {
  expect(run.code).toBe(2);
  expect(run.stderr.trimEnd()).toMatch(message);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stdout).toBe('');
  expect(run.servicesCreated).toBe(0);
}
