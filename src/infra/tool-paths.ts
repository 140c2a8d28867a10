// Where `scripts/setup` puts the project-local servers (git-ignored `.tools/`, `.data/`).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The checkout this code runs from (from sources or from `dist/`). */
export const PROJECT_ROOT = findProjectRoot(__dirname);
export const TOOLS_DIR = path.join(PROJECT_ROOT, '.tools');
export const DATA_DIR = path.join(PROJECT_ROOT, '.data');

export const TEMPORAL_CLI = path.join(TOOLS_DIR, 'py', 'bin', 'temporal');
export const TEMPORAL_TEST_SERVER = path.join(TOOLS_DIR, 'py', 'bin', 'temporal-test-server');
export const FERRETDB = path.join(TOOLS_DIR, 'bin', 'ferretdb');
/** The same FerretDB version without our index pushdown patch (built by `scripts/setup --test`). */
export const FERRETDB_STOCK = path.join(TOOLS_DIR, 'bin', 'ferretdb-stock');

/** The Keyword search attributes every Temporal server we start registers. */
export const SEARCH_ATTRIBUTES = ['CodexTaskStatus', 'NotificationStatus', 'NotifyTarget'] as const;

export function requireTool(file: string, what: string): string {
  if (!fs.existsSync(file)) {
    throw new Error(
      `${what} is not installed at ${path.relative(PROJECT_ROOT, file)}: run ./scripts/setup, or set the address of one you run yourself.`,
    );
  }
  return file;
}

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && /"name":\s*"codex-bridge"/.test(fs.readFileSync(pkg, 'utf8'))) return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}
