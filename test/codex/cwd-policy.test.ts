import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkCwd, CwdPolicyError } from '../../src/cwd-policy';

let root: string;
beforeAll(() => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cwd-policy-')));
  fs.mkdirSync(path.join(root, 'allowed', 'project'), { recursive: true });
  fs.mkdirSync(path.join(root, 'allowed-sibling'));
  fs.mkdirSync(path.join(root, 'elsewhere'));
  fs.writeFileSync(path.join(root, 'allowed', 'file.txt'), '');
  fs.symlinkSync(path.join(root, 'elsewhere'), path.join(root, 'allowed', 'escape'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CwdPolicyError);
    return `${(err as CwdPolicyError).problem}: ${(err as Error).message}`;
  }
  throw new Error('expected CwdPolicyError');
}

test('any existing directory is fine without allowed roots, returned as its real path', () => {
  expect(checkCwd(path.join(root, 'elsewhere'), [])).toBe(path.join(root, 'elsewhere'));
  expect(checkCwd(path.join(root, 'allowed', 'escape'), [])).toBe(path.join(root, 'elsewhere'));
});

test('a directory under an allowed root, or the root itself, is allowed', () => {
  const roots = [path.join(root, 'allowed')];
  expect(checkCwd(path.join(root, 'allowed', 'project'), roots)).toBe(path.join(root, 'allowed', 'project'));
  expect(checkCwd(path.join(root, 'allowed'), roots)).toBe(path.join(root, 'allowed'));
  expect(checkCwd(path.join(root, 'allowed', 'project', '..', 'project'), roots)).toBe(
    path.join(root, 'allowed', 'project'),
  );
});

test('outside the roots is refused: a sibling with the same prefix, and a symlink leading out', () => {
  const roots = [path.join(root, 'allowed')];
  expect(problem(() => checkCwd(path.join(root, 'allowed-sibling'), roots))).toMatch(
    /^not_allowed: The working directory .*allowed-sibling is outside the allowed roots/,
  );
  expect(problem(() => checkCwd(path.join(root, 'allowed', 'escape'), roots))).toMatch(/^not_allowed: /);
  expect(problem(() => checkCwd(path.join(root, 'allowed', '..', 'elsewhere'), roots))).toMatch(/^not_allowed: /);
});

test('a missing path, a file, or a relative path is refused as missing', () => {
  expect(problem(() => checkCwd(path.join(root, 'nope'), []))).toMatch(
    /^missing: The working directory .*nope does not exist/,
  );
  expect(problem(() => checkCwd(path.join(root, 'allowed', 'file.txt'), []))).toMatch(
    /^missing: .* is not a directory/,
  );
  expect(problem(() => checkCwd('relative/dir', []))).toMatch(/^missing: .* is not an absolute path/);
});
