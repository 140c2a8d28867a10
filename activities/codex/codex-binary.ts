// Which `codex` binary to run: CODEX_BIN, else the native binary of the pinned @openai/codex
// dependency. We run the native binary directly (not the npm launcher script) so that the pid we
// heartbeat and signal is the app-server itself.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CodexRunError } from './errors';

// The same table as @openai/codex's bin/codex.js: npm installs only the platform package that fits.
const PLATFORM_PACKAGES: Record<string, { pkg: string; triple: string }> = {
  'linux-x64': { pkg: '@openai/codex-linux-x64', triple: 'x86_64-unknown-linux-musl' },
  'linux-arm64': { pkg: '@openai/codex-linux-arm64', triple: 'aarch64-unknown-linux-musl' },
  'darwin-x64': { pkg: '@openai/codex-darwin-x64', triple: 'x86_64-apple-darwin' },
  'darwin-arm64': { pkg: '@openai/codex-darwin-arm64', triple: 'aarch64-apple-darwin' },
};

/** The native binary shipped by the @openai/codex dependency for this platform. */
export function bundledCodexBinary(): string {
  const platform = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  if (!platform) {
    throw new CodexRunError(
      'CodexBinaryMissing',
      `@openai/codex ships no binary for ${process.platform}-${process.arch}: install Codex yourself and set CODEX_BIN.`,
    );
  }
  let packageJson: string;
  try {
    packageJson = require.resolve(`${platform.pkg}/package.json`);
  } catch {
    throw new CodexRunError(
      'CodexBinaryMissing',
      `The Codex binary package ${platform.pkg} is not installed: run npm ci, or set CODEX_BIN to a codex binary.`,
    );
  }
  return path.join(path.dirname(packageJson), 'vendor', platform.triple, 'bin', 'codex');
}

/** Throws CodexBinaryMissing unless `bin` is an executable file. */
export function assertExecutable(bin: string): void {
  try {
    fs.accessSync(bin, fs.constants.X_OK);
    if (fs.statSync(bin).isFile()) return;
  } catch {
    /* reported below */
  }
  throw new CodexRunError(
    'CodexBinaryMissing',
    `The Codex binary ${bin} does not exist or is not executable: set CODEX_BIN to a codex binary, or unset it to use the @openai/codex dependency.`,
  );
}
