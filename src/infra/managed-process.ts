// A child server process in its own process group, so that stopping it stops everything it started
// and nothing outlives the launcher (dev launcher, test global setup, fault tests).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Append the child's stdout and stderr here; otherwise they are inherited. */
  logFile?: string;
  /** Pipe output to the parent's stdout/stderr with a name prefix. */
  prefixOutput?: boolean;
}

export class ManagedProcess {
  readonly child: ChildProcess;
  private exited = false;
  readonly exitPromise: Promise<number | null>;

  constructor(readonly options: ManagedProcessOptions) {
    const log = options.logFile ? fs.openSync(options.logFile, 'a') : undefined;
    this.child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true, // own process group: kill(-pid) reaches grandchildren too
      stdio: [
        'ignore',
        log ?? (options.prefixOutput ? 'pipe' : 'inherit'),
        log ?? (options.prefixOutput ? 'pipe' : 'inherit'),
      ],
    });
    if (log !== undefined) fs.closeSync(log);
    if (options.prefixOutput && !log) {
      const prefix = `[${options.name}] `;
      for (const [stream, out] of [
        [this.child.stdout, process.stdout],
        [this.child.stderr, process.stderr],
      ] as const) {
        let buffered = '';
        stream?.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) out.write(prefix + line + '\n');
        });
      }
    }
    this.exitPromise = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        this.exited = true;
        resolve(code);
      });
      this.child.once('error', () => {
        this.exited = true;
        resolve(null);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** SIGTERM to the whole group, SIGKILL after graceMs. Resolves when the leader has exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited || this.child.pid === undefined) return;
    signalGroup(this.child.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.child.pid!, 'SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
    signalGroup(this.child.pid, 'SIGKILL'); // stragglers in the group
  }

  /** SIGKILL the group at once (fault tests). */
  async kill(): Promise<void> {
    if (this.exited || this.child.pid === undefined) return;
    signalGroup(this.child.pid, 'SIGKILL');
    await this.exitPromise;
  }
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}
