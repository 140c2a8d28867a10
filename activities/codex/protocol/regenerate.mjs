#!/usr/bin/env node
// Regenerates the vendored app-server protocol types: runs `codex app-server generate-ts` with the
// pinned binary, then copies only the files reachable (by import) from ROOTS, verbatim.
// Usage: node activities/codex/protocol/regenerate.mjs [path/to/codex]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

// What the client speaks: every server notification and request (typed by method), plus the
// params/results of the client requests it sends and the answers it gives.
const ROOTS = [
  'ServerNotification',
  'ServerRequest',
  'RequestId',
  'InitializeParams',
  'InitializeResponse',
  'v2/ThreadStartParams',
  'v2/ThreadStartResponse',
  'v2/ThreadResumeParams',
  'v2/ThreadResumeResponse',
  'v2/TurnStartParams',
  'v2/TurnStartResponse',
  'v2/TurnInterruptParams',
  'v2/TurnInterruptResponse',
  'v2/TurnSteerParams',
  'v2/TurnSteerResponse',
  'v2/CommandExecutionRequestApprovalResponse',
  'v2/FileChangeRequestApprovalResponse',
  'v2/PermissionsRequestApprovalResponse',
  'v2/ToolRequestUserInputResponse',
];

function defaultBinary() {
  const pkg = { x64: '@openai/codex-linux-x64', arm64: '@openai/codex-linux-arm64' }[process.arch];
  const triple = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-musl' }[process.arch];
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'vendor', triple, 'bin', 'codex');
}

const bin = process.argv[2] ?? process.env.CODEX_BIN ?? defaultBinary();
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-protocol-'));
try {
  execFileSync(bin, ['app-server', 'generate-ts', '--out', out], { stdio: 'inherit' });
  const keep = new Set();
  const visit = (rel) => {
    if (keep.has(rel)) return;
    keep.add(rel);
    const text = fs.readFileSync(path.join(out, `${rel}.ts`), 'utf8');
    for (const m of text.matchAll(/from "(\.[^"]+)"/g)) visit(path.posix.normalize(path.posix.join(path.posix.dirname(rel), m[1])));
  };
  ROOTS.forEach(visit);
  for (const dir of fs.readdirSync(here, { withFileTypes: true })) {
    if (dir.isDirectory()) fs.rmSync(path.join(here, dir.name), { recursive: true });
    else if (dir.name.endsWith('.ts')) fs.rmSync(path.join(here, dir.name));
  }
  for (const rel of keep) {
    fs.mkdirSync(path.dirname(path.join(here, rel)), { recursive: true });
    fs.copyFileSync(path.join(out, `${rel}.ts`), path.join(here, `${rel}.ts`));
  }
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`vendored ${keep.size} of the protocol files from ${version} into ${path.relative(process.cwd(), here)}`);
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}
