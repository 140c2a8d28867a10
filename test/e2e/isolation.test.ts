// Worktree isolation end to end: two `--isolation worktree` tasks on one repository run at the same
// time with the REAL codex binary (a scripted model), each in its own git worktree; each change
// lands on its own branch codex/<task_id>, the main checkout is untouched and no worktree is left.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeNotifier } from '../support/fake-notifier';
import { cli, onlyJson } from '../interfaces/support/run-cli';
import { createE2eHarness, eventually, sleep, type E2eHarness } from './support/e2e-harness';

let h: E2eHarness;
let worktreeRoot: string;
const notifier = new FakeNotifier();

beforeAll(async () => {
  worktreeRoot = fs.mkdtempSync(path.join(process.env.CODEX_BRIDGE_TEST_SCRATCH ?? '/tmp', 'worktrees-'));
  h = await createE2eHarness({ env: { CODEX_BRIDGE_WORKTREE_ROOT: worktreeRoot } });
  await h.startWorker({ notifier: notifier.notifier });
}, 120_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8' }).trim();
const identity = ['-c', 'user.name=test', '-c', 'user.email=test@localhost'];

function makeRepo(name: string): string {
  const repo = h.workdir(name);
  git(repo, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(repo, 'README.md'), 'hello\n');
  git(repo, 'add', 'README.md');
  git(repo, ...identity, 'commit', '-qm', 'Initial commit');
  return repo;
}

const final = (text: string) => ({ items: [{ type: 'message' as const, text, phase: 'final_answer' as const }] });

test('two worktree tasks on one repository run at the same time, each change on its own branch; the checkout is untouched and no worktree is left', async () => {
  const repo = makeRepo('shared-repo');
  const head = git(repo, 'rev-parse', 'HEAD');
  // A commits its change itself; B leaves its change uncommitted (the bridge saves it on the branch).
  const commitA = `sleep 2 && echo A > a.txt && git add a.txt && git ${identity.join(' ')} commit -qm "Add a.txt"`;
  const routeA = h.model.route('wt-a', [
    { items: [{ type: 'exec_command', cmd: commitA, callId: 'call_a' }] },
    final('A done.'),
  ]);
  const routeB = h.model.route('wt-b', [
    { items: [{ type: 'exec_command', cmd: 'sleep 2 && echo B > b.txt', callId: 'call_b' }] },
    final('B done.'),
  ]);

  const startedA = await cli(
    [
      'start',
      '--prompt',
      `Add a.txt ${routeA.tag}`,
      '--cwd',
      repo,
      '--isolation',
      'worktree',
      '--sandbox',
      'danger-full-access',
      '--notify-target',
      'feishu:oc_wt',
      '--json',
    ],
    { env: h.testEnv.env },
  );
  expect(startedA.code).toBe(0);
  const a = onlyJson(startedA);
  expect(a.isolation).toBe('worktree');
  const b = await h.service.start({
    prompt: `Add b.txt ${routeB.tag}`,
    cwd: repo,
    isolation: 'worktree',
    notify_target: 'feishu:oc_wt',
  });

  const [doneA, doneB] = await Promise.all([h.result(a.task_id), h.result(b.task_id)]);
  for (const done of [doneA, doneB]) {
    expect(done.status).toBe('completed');
    expect(done.branch).toBe(`codex/${done.task_id}`);
    expect(done.worktree?.base_commit).toBe(head);
    expect(done.worktree?.removed).toBe(true);
    expect(done.notification_status).toBe('sent');
    expect(notifier.completions(done.task_id)).toHaveLength(1);
  }
  // At the same time: each turn started before the other ended.
  const [ta, tb] = [doneA.turns[0]!, doneB.turns[0]!];
  expect(Date.parse(ta.started_at!)).toBeLessThan(Date.parse(tb.finished_at!));
  expect(Date.parse(tb.started_at!)).toBeLessThan(Date.parse(ta.finished_at!));
  // Codex ran in the worktree, not in the checkout.
  expect(routeA.toolOutputs(1).call_a).toBeDefined();

  // Each change on its own branch, and only there.
  expect(doneA.worktree?.commits.map((c) => c.subject)).toEqual(['Add a.txt']);
  expect(doneA.worktree?.uncommitted_diff_stat).toBeNull();
  expect(git(repo, 'show', `codex/${a.task_id}:a.txt`)).toBe('A');
  expect(doneB.worktree?.commits).toHaveLength(1);
  expect(doneB.worktree?.commits[0]!.subject).toMatch(/^codex-bridge: what Codex left uncommitted in task /);
  expect(doneB.worktree?.uncommitted_diff_stat).toMatch(/b\.txt/);
  expect(git(repo, 'show', `codex/${b.task_id}:b.txt`)).toBe('B');
  expect(git(repo, 'ls-tree', '--name-only', `codex/${a.task_id}`).split('\n').sort()).toEqual(['README.md', 'a.txt']);
  expect(git(repo, 'ls-tree', '--name-only', `codex/${b.task_id}`).split('\n').sort()).toEqual(['README.md', 'b.txt']);

  // The main checkout: same commit, same branch, nothing changed; no worktree left anywhere.
  expect(git(repo, 'rev-parse', 'HEAD')).toBe(head);
  expect(git(repo, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
  expect(git(repo, 'status', '--porcelain')).toBe('');
  expect(
    git(repo, 'worktree', 'list', '--porcelain')
      .split('\n')
      .filter((l) => l.startsWith('worktree ')),
  ).toEqual([`worktree ${fs.realpathSync(repo)}`]);
  expect(fs.readdirSync(worktreeRoot)).toEqual([]);

  // The completion message names the branch and what is on it.
  const messageA = notifier.completions(a.task_id)[0]!.message.text;
  expect(messageA).toContain(`Branch: codex/${a.task_id} (1 commit)`);
  expect(messageA).toContain('Add a.txt');
  const messageB = notifier.completions(b.task_id)[0]!.message.text;
  expect(messageB).toContain(`Branch: codex/${b.task_id} (1 commit)`);
  expect(messageB).toMatch(/Left uncommitted by Codex, saved on the branch: 1 file changed, 1 insertion/);
}, 120_000);

test('worktree isolation outside a git repository is refused with one sentence before anything is created', async () => {
  const plain = h.workdir('not-a-repo');
  const run = await cli(
    ['start', '--prompt', 'p', '--cwd', plain, '--isolation', 'worktree', '--task-id', 'never-created'],
    { env: h.testEnv.env },
  );
  expect(run.code).toBe(2);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).toContain(
    `Worktree isolation needs a git repository with at least one commit, and ${fs.realpathSync(plain)} is not in one`,
  );
  expect(await h.store.get('never-created')).toBeNull();
  await expect(h.client.workflow.getHandle('never-created').describe()).rejects.toThrow(/not found/i);
  expect(fs.readdirSync(worktreeRoot)).toEqual([]);
});

test('with a retention the worktree stays after the task, a reply works in it again, and it is removed once its time is up', async () => {
  const variant = h.variant({
    TEMPORAL_TASK_QUEUE: `${h.config.temporal.taskQueue}-retained`,
    CODEX_BRIDGE_WORKTREE_RETENTION: '3s',
  });
  await h.startWorker({ config: variant.config, notifier: notifier.notifier });
  const repo = makeRepo('retained-repo');
  const route = h.model.route('wt-retained', [
    { items: [{ type: 'exec_command', cmd: 'echo one > one.txt', callId: 'call_one' }] },
    final('First turn done.'),
    { items: [{ type: 'exec_command', cmd: 'test -f one.txt && echo two > two.txt', callId: 'call_two' }] },
    final('Second turn done.'),
  ]);
  const started = await variant.service.start({
    prompt: `Write one.txt ${route.tag}`,
    cwd: repo,
    isolation: 'worktree',
  });
  const first = await h.result(started.task_id);
  expect(first.status).toBe('completed');
  expect(first.worktree?.removed).toBe(false);
  expect(fs.existsSync(first.worktree!.path)).toBe(true);

  await variant.service.reply(started.task_id, `Now two.txt ${route.tag}`);
  const second = await eventually(
    () => h.result(started.task_id),
    (t) => t.turns.length === 2,
    60_000,
    'the reply finished',
  );
  expect(second.status).toBe('completed');
  expect(route.toolOutputs(3).call_two).toBeDefined();
  expect(git(repo, 'ls-tree', '--name-only', `codex/${started.task_id}`).split('\n').sort()).toEqual([
    'README.md',
    'one.txt',
    'two.txt',
  ]);
  expect(second.worktree?.commits).toHaveLength(2);

  // Once the retention has passed, the next worktree task's start sweeps it away; the branch stays.
  await sleep(3_500);
  const other = h.model.route('wt-sweeper', [final('Nothing to do.')]);
  const sweeper = await variant.service.start({ prompt: `Look around ${other.tag}`, cwd: repo, isolation: 'worktree' });
  expect((await h.result(sweeper.task_id)).status).toBe('completed');
  expect(fs.existsSync(second.worktree!.path)).toBe(false);
  expect(git(repo, 'branch', '--list', `codex/${started.task_id}`)).toContain(`codex/${started.task_id}`);
  expect(git(repo, 'status', '--porcelain')).toBe('');
}, 120_000);
