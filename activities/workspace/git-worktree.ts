// A task's own git worktree: opened on the branch `codex/<task_id>` from the cwd's current commit
// before the turn, closed after it. Closing saves what Codex left uncommitted as one commit on the
// branch (so removing the worktree loses nothing), lists the branch's commits, and removes the
// worktree unless a retention is configured. Every step is safe to repeat: a retried activity
// finds the worktree or branch it made before.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { WorktreeRecord } from '../../src/contract/task';

const run = promisify(execFile);
const GIT_TIMEOUT_MS = 60_000;
/** Who the bridge's own snapshot commit is by; the person's git identity is not assumed. */
const BRIDGE_IDENTITY = ['-c', 'user.name=codex-bridge', '-c', 'user.email=codex-bridge@localhost'];

export interface WorktreeSettings {
  /** One directory per task below it. */
  root: string;
  /** 0: remove the worktree when the task ends; otherwise keep it this long. */
  retentionMs: number;
}

export interface OpenWorktreeInput {
  task_id: string;
  /** The task's cwd: a directory inside the repository. */
  cwd: string;
  branch: string;
  /** Known from an earlier turn of the task (a reply); otherwise the cwd's current commit. */
  base_commit: string | null;
}

export interface CloseWorktreeInput {
  task_id: string;
  cwd: string;
  branch: string;
  base_commit: string;
  turn: number;
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-C', cwd, ...args], { timeout: GIT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

async function succeeds(cwd: string, ...args: string[]): Promise<boolean> {
  return git(cwd, ...args).then(
    () => true,
    () => false,
  );
}

export function createWorktreeActivities(settings: WorktreeSettings) {
  const dirOf = (taskId: string) => path.join(settings.root, taskId);

  return {
    /** Creates (or finds) the task's worktree; returns where Codex runs: the cwd's place in it. */
    async openWorktree(input: OpenWorktreeInput): Promise<Pick<WorktreeRecord, 'path' | 'base_commit'>> {
      await sweepExpired(settings.root);
      const top = await git(input.cwd, 'rev-parse', '--show-toplevel');
      const inside = path.relative(top, fs.realpathSync(input.cwd));
      const dir = dirOf(input.task_id);
      const base = input.base_commit ?? (await git(top, 'rev-parse', 'HEAD'));
      if (!(await succeeds(dir, 'rev-parse', '--is-inside-work-tree'))) {
        fs.mkdirSync(settings.root, { recursive: true });
        fs.rmSync(dir, { recursive: true, force: true }); // a half-made directory from a lost attempt
        await git(top, 'worktree', 'prune');
        const branchExists = await succeeds(top, 'rev-parse', '--verify', '--quiet', `refs/heads/${input.branch}`);
        if (branchExists) await git(top, 'worktree', 'add', dir, input.branch);
        else await git(top, 'worktree', 'add', '-b', input.branch, dir, base);
      }
      fs.rmSync(`${dir}.expires`, { force: true });
      return { path: path.join(dir, inside), base_commit: base };
    },

    /** Saves, lists and (without retention) removes; the branch stays. */
    async closeWorktree(input: CloseWorktreeInput): Promise<WorktreeRecord> {
      const dir = dirOf(input.task_id);
      const top = await git(input.cwd, 'rev-parse', '--show-toplevel');
      let diffStat: string | null = null;
      if (await succeeds(dir, 'rev-parse', '--is-inside-work-tree')) {
        await git(dir, 'add', '-A');
        diffStat = (await git(dir, 'diff', '--cached', '--stat')) || null;
        if (diffStat) {
          await git(
            dir,
            ...BRIDGE_IDENTITY,
            'commit',
            '-q',
            '--no-verify',
            '-m',
            `codex-bridge: what Codex left uncommitted in task ${input.task_id}, turn ${input.turn}`,
          );
        }
      }
      const log = await git(
        top,
        'log',
        '--reverse',
        '--format=%H%x09%s',
        `${input.base_commit}..refs/heads/${input.branch}`,
      );
      const commits =
        log === '' ? [] : log.split('\n').map((line) => ({ sha: line.slice(0, 40), subject: line.slice(41) }));
      let removed = true;
      if (settings.retentionMs > 0 && fs.existsSync(dir)) {
        fs.writeFileSync(`${dir}.expires`, new Date(Date.now() + settings.retentionMs).toISOString());
        removed = false;
      } else {
        await removeWorktree(top, dir);
      }
      const inside = path.relative(top, fs.realpathSync(input.cwd));
      return {
        path: path.join(dir, inside),
        base_commit: input.base_commit,
        commits,
        uncommitted_diff_stat: diffStat,
        removed,
      };
    },
  };
}

async function removeWorktree(repo: string, dir: string): Promise<void> {
  if (fs.existsSync(dir)) await git(repo, 'worktree', 'remove', '--force', dir);
  await git(repo, 'worktree', 'prune');
  fs.rmSync(`${dir}.expires`, { force: true });
}

/** Removes retained worktrees whose time is up (each `<task>.expires` file says when). */
async function sweepExpired(root: string): Promise<void> {
  let names: string[];
  try {
    names = fs.readdirSync(root).filter((n) => n.endsWith('.expires'));
  } catch {
    return;
  }
  for (const name of names) {
    const marker = path.join(root, name);
    const expires = Date.parse(fs.readFileSync(marker, 'utf8').trim());
    if (!(expires <= Date.now())) continue;
    const dir = marker.slice(0, -'.expires'.length);
    const common = await git(dir, 'rev-parse', '--path-format=absolute', '--git-common-dir').catch(() => null);
    if (common) await removeWorktree(path.dirname(common), dir).catch(() => undefined);
    else fs.rmSync(marker, { force: true });
  }
}
