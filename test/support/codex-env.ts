// A hermetic Codex for tests and benchmarks: an empty CODEX_HOME and a work directory under a
// private temp dir, and the `-c` overrides that point the real app-server at a scripted model
// (no retries, so failures show at once). Also finds the processes that used that CODEX_HOME.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { bundledCodexBinary } from '../../activities/codex/codex-binary';
import { CodexRunner, type CodexRunnerOptions } from '../../activities/codex/codex-runner';
import type { CodexTurnInput } from '../../src/contract/codex-turn';

export const MOCK_MODEL = 'mock-model';

export interface CodexTestEnv {
  /** Everything below lives here; removed by cleanup(). */
  root: string;
  codexHome: string;
  /** An empty directory for Codex to work in. */
  workDir: string;
  configOverrides: string[];
  runnerOptions(extra?: Partial<CodexRunnerOptions>): CodexRunnerOptions;
  runner(extra?: Partial<CodexRunnerOptions>): CodexRunner;
  /** A small turn in workDir: no approvals, full access, 60 s timeout, decline policy. */
  turnInput(overrides?: Partial<CodexTurnInput>): CodexTurnInput;
  /** Pids of live processes that run with this CODEX_HOME (environment or command line). */
  processes(): number[];
  /** Kills what is left of this env's processes and removes its files. */
  cleanup(): Promise<void>;
}

export interface CodexTestEnvOptions {
  /** The model's base URL (ScriptedModel.url), or one where nothing listens. */
  modelUrl: string;
  /** More `-c key=value` overrides. */
  config?: string[];
}

/** `-c` overrides that point Codex at `baseUrl` as provider `mock`, model `mock-model`, no retries. */
export function mockProviderOverrides(baseUrl: string, catalogPath?: string): string[] {
  return [
    'model_provider="mock"',
    `model="${MOCK_MODEL}"`,
    `model_providers.mock={name="mock",base_url="${baseUrl}",wire_api="responses",request_max_retries=0,stream_max_retries=0}`,
    ...(catalogPath ? [`model_catalog_json="${catalogPath}"`] : []),
  ];
}

export async function makeCodexEnv(options: CodexTestEnvOptions): Promise<CodexTestEnv> {
  const base = process.env.CODEX_BRIDGE_TEST_SCRATCH ?? os.tmpdir();
  const root = fs.mkdtempSync(path.join(base, `codex-${randomUUID().slice(0, 8)}-`));
  const codexHome = path.join(root, 'codex-home');
  const workDir = path.join(root, 'work');
  fs.mkdirSync(codexHome);
  fs.mkdirSync(workDir);
  const catalog = await mockModelCatalog(root);
  const configOverrides = [...mockProviderOverrides(options.modelUrl, catalog), ...(options.config ?? [])];
  const runnerOptions = (extra: Partial<CodexRunnerOptions> = {}): CodexRunnerOptions => ({
    codexHome,
    configOverrides,
    ...extra,
  });
  const env: CodexTestEnv = {
    root,
    codexHome,
    workDir,
    configOverrides,
    runnerOptions,
    runner: (extra) => new CodexRunner(runnerOptions(extra)),
    turnInput: (overrides = {}) => ({
      taskId: `task-${randomUUID().slice(0, 8)}`,
      turn: 1,
      prompt: 'Say hello.',
      cwd: workDir,
      model: null,
      sandbox: 'danger-full-access',
      approvalPolicy: 'never',
      threadId: null,
      timeoutMs: 60_000,
      serverRequestPolicy: 'decline',
      ...overrides,
    }),
    processes: () => processesUsing(codexHome),
    cleanup: async () => {
      for (const pid of processesUsing(codexHome)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      if (!process.env.CODEX_BRIDGE_KEEP_TEST_FILES) fs.rmSync(root, { recursive: true, force: true });
    },
  };
  return env;
}

/** Live (non-zombie) processes whose environment or command line names `codexHome`. */
export function processesUsing(codexHome: string): number[] {
  const needleEnv = `CODEX_HOME=${codexHome}\0`;
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/^Z|^X/.test(stat.slice(stat.lastIndexOf(')') + 2))) continue;
      const environ = readOr(`/proc/${pid}/environ`);
      const cmdline = readOr(`/proc/${pid}/cmdline`);
      if (environ.includes(needleEnv) || cmdline.includes(codexHome)) found.push(pid);
    } catch {
      /* exited while we looked */
    }
  }
  return found;
}

let bundledModels: Promise<{ models: Record<string, unknown>[] }> | undefined;

/**
 * A one-model catalog for `mock-model`, copied from the binary's bundled catalog: with it Codex
 * offers the model the apply_patch tool (and stops warning about missing model metadata).
 */
export async function mockModelCatalog(dir: string): Promise<string> {
  bundledModels ??= (async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-models-'));
    try {
      const { stdout } = await promisify(execFile)(bundledCodexBinary(), ['debug', 'models', '--bundled'], {
        env: { ...process.env, CODEX_HOME: home },
        maxBuffer: 64 * 1024 * 1024,
      });
      return JSON.parse(stdout) as { models: Record<string, unknown>[] };
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  })();
  const { models } = await bundledModels;
  const template = models.find((m) => m.apply_patch_tool_type === 'freeform') ?? models[0];
  if (!template) throw new Error('codex debug models --bundled listed no models');
  const file = path.join(dir, 'mock-model-catalog.json');
  fs.writeFileSync(file, JSON.stringify({ models: [{ ...template, slug: MOCK_MODEL, display_name: MOCK_MODEL }] }));
  return file;
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return '';
  }
}
