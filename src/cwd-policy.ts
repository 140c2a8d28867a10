// Where Codex may work: an existing directory inside one of CODEX_BRIDGE_ALLOWED_ROOTS (any directory
// when the list is empty). Checked at the edge before a task starts and again by the runner, because
// a directory can disappear (or a symlink can be repointed) between the two.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type CwdProblem = 'missing' | 'not_allowed' | 'not_git';

/** The working directory cannot be used; `problem` says why, the message says what to do. */
export class CwdPolicyError extends Error {
  override readonly name = 'CwdPolicyError';
  constructor(
    readonly problem: CwdProblem,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Returns the real path of `cwd` (symlinks resolved, so a link cannot lead outside the roots), or
 * throws CwdPolicyError when it is not an existing directory inside `allowedRoots`.
 */
export function checkCwd(cwd: string, allowedRoots: string[]): string {
  if (!path.isAbsolute(cwd)) {
    throw new CwdPolicyError(
      'missing',
      `The working directory ${JSON.stringify(cwd)} is not an absolute path: pass the full path of an existing directory.`,
    );
  }
  let real: string;
  try {
    real = fs.realpathSync(cwd);
  } catch {
    throw new CwdPolicyError(
      'missing',
      `The working directory ${cwd} does not exist: create it or pass an existing directory.`,
    );
  }
  if (!fs.statSync(real).isDirectory()) {
    throw new CwdPolicyError(
      'missing',
      `The working directory ${cwd} is not a directory: pass a directory, not a file.`,
    );
  }
  if (allowedRoots.length === 0) return real;
  const roots = allowedRoots.map(realRoot);
  if (roots.some((root) => real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep)))
    return real;
  throw new CwdPolicyError(
    'not_allowed',
    `The working directory ${cwd} is outside the allowed roots (${allowedRoots.join(path.delimiter)}): use a directory under one of them or extend CODEX_BRIDGE_ALLOWED_ROOTS.`,
  );
}

// A root that does not exist (yet) still bounds by its lexical path.
function realRoot(root: string): string {
  try {
    return fs.realpathSync(root);
  } catch {
    return path.resolve(root);
  }
}

/** Worktree isolation needs a git repository with a commit to branch from. */
export function checkGitRepository(cwd: string): void {
  try {
    execFileSync('git', ['-C', cwd, 'rev-parse', '--verify', '--quiet', 'HEAD'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    throw new CwdPolicyError(
      'not_git',
      `Worktree isolation needs a git repository with at least one commit, and ${cwd} is not in one: use isolation none, or commit there first.`,
    );
  }
}
