// Owns the children of one `codex-bridge dev` run: notices when one dies on its own (then the run
// fails with one sentence naming it and its log), and stops them in order — worker and API first,
// so nothing talks to a vanished server while shutting down, then Temporal and the store.
import type { ManagedProcess } from '../infra/managed-process';
import { DevError } from './dev-error';
import type { PidFile } from './pid-file';
import { stopGroup } from './process-group';

export interface SupervisedChild {
  /** Short name in the pid file: temporal, ferretdb, worker, api. */
  name: string;
  /** How a sentence names it: "the Temporal dev server", "the worker". */
  label: string;
  process: ManagedProcess;
  logFile: string;
  /** Stopped in the first round (worker, API) or the second (servers). */
  tier: 'app' | 'server';
  /** SIGTERM-to-SIGKILL grace. */
  graceMs: number;
}

export class Supervisor {
  private readonly children: SupervisedChild[] = [];
  private requested = false;
  private firstFailure: Error | undefined;
  private wake: () => void = () => undefined;
  /** Resolves when a stop was asked for or a child died. */
  readonly stopRequested: Promise<void>;

  constructor(
    private readonly pidFile: PidFile,
    private readonly showPath: (file: string) => string,
  ) {
    this.stopRequested = new Promise((resolve) => (this.wake = resolve));
  }

  get stopping(): boolean {
    return this.requested;
  }

  get failure(): Error | undefined {
    return this.firstFailure;
  }

  get empty(): boolean {
    return this.children.length === 0;
  }

  pidOf(name: string): number | undefined {
    return this.children.find((c) => c.name === name)?.process.pid;
  }

  add(child: SupervisedChild): void {
    this.children.push(child);
    if (child.process.pid !== undefined) this.pidFile.add(child.name, child.process.pid);
    void child.process.exitPromise.then((code) => {
      if (this.requested) return; // stopping on purpose
      const how = code === null ? 'killed by a signal' : `exit code ${code}`;
      this.fail(
        new DevError(`${child.label} exited unexpectedly (${how}): its log is ${this.showPath(child.logFile)}.`),
      );
    });
  }

  /** Records the first failure (later ones are its consequences) and asks for a stop. */
  fail(err: Error): void {
    this.firstFailure ??= err;
    this.requestStop();
  }

  requestStop(): void {
    this.requested = true;
    this.wake();
  }

  async stopAll(): Promise<void> {
    this.requestStop();
    for (const tier of ['app', 'server'] as const) {
      await Promise.all(this.children.filter((c) => c.tier === tier).map(stopChild));
    }
  }
}

async function stopChild(child: SupervisedChild): Promise<void> {
  if (child.process.alive) {
    await child.process.stop(child.graceMs);
  } else if (child.process.pid !== undefined) {
    // The leader is gone but what it started may not be (a worker's Codex app-server).
    await stopGroup(child.process.pid, child.graceMs);
  }
}
