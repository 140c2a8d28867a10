// A per-worker pool of long-lived `codex app-server` processes, each hosting the threads of many
// concurrent turns: a turn takes a warm process instead of paying spawn → initialize (≈190 ms of
// CPU and a process's memory) itself. Everything that can only be set per process (binary, flags,
// `-c` overrides, CODEX_HOME) is the pool's; per task settings go with each thread.
//
// A process that dies takes only its own turns down (they fail and Temporal retries them) and is
// replaced. A process whose turn could not be interrupted, or that has loaded many threads (loaded
// threads stay in its memory), retires: no new turns, closed when its last turn ends.
// The processes die with the worker: they exit when their stdin closes, a watchdog kills their
// process group, and a pool sweeps whatever a dead worker's pool left behind before it starts.
import { randomUUID } from 'node:crypto';
import { POOL_OWNER_ENV, poolOwnerId, sweepOrphanedPools } from './process-sweep';
import { SharedAppServer } from './shared-app-server';

export interface AppServerPoolOptions {
  /** How many processes at most. */
  size: number;
  command: { bin: string; args: string[]; env: NodeJS.ProcessEnv };
  clientInfo: { name: string; title: string; version: string };
  /** The processes' working directory (threads get their own). Default: this process's. */
  cwd?: string;
  /** Each step of closing a process (EOF, SIGTERM, SIGKILL) waits this long. Default 2000 ms. */
  killGraceMs?: number;
  /** A process retires after loading this many threads. Default 200. */
  maxThreadsPerProcess?: number;
}

export class AppServerPool {
  private readonly servers = new Set<SharedAppServer>();
  private closed = false;
  private swept = false;
  /** Marks this worker's processes, so that a later pool can tell they were orphaned. */
  readonly owner = poolOwnerId();

  constructor(readonly options: AppServerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new Error(`an app-server pool needs at least one process, got ${options.size}`);
  }

  /**
   * A process for one turn (counted as busy until release). A follow-up turn goes to the process
   * that still has its thread loaded; otherwise the least busy process, or a new one while the
   * pool is below its size and every process is busy.
   */
  acquire(threadId: string | null): SharedAppServer {
    if (this.closed) throw new Error('the app-server pool is closed');
    this.sweepOnce();
    const live = [...this.servers].filter((s) => !s.isEnded && !s.retiring);
    let chosen = threadId === null ? undefined : live.find((s) => s.threadTags.has(threadId));
    if (!chosen) {
      const leastBusy = live.reduce<SharedAppServer | undefined>(
        (best, s) => (best === undefined || s.activeTurns < best.activeTurns ? s : best),
        undefined,
      );
      chosen =
        leastBusy !== undefined && (leastBusy.activeTurns === 0 || live.length >= this.options.size)
          ? leastBusy
          : this.spawn();
    }
    chosen.activeTurns += 1;
    return chosen;
  }

  /** Ends a turn's hold on its process; `stuck`: its turn could not be interrupted. */
  release(server: SharedAppServer, stuck = false): void {
    server.activeTurns = Math.max(0, server.activeTurns - 1);
    if (stuck || server.threadsLoaded >= (this.options.maxThreadsPerProcess ?? 200)) server.retiring = true;
    if (server.retiring && server.activeTurns === 0) this.retire(server);
  }

  /** Starts processes up to the pool's size and waits until they are initialized. */
  async warm(count = this.options.size): Promise<void> {
    this.sweepOnce();
    while (!this.closed && this.live().length < Math.min(count, this.options.size)) this.spawn();
    await Promise.all(this.live().map((s) => s.ready.catch(() => undefined)));
  }

  /** Pids of the live processes. */
  pids(): number[] {
    return this.live()
      .map((s) => s.pid)
      .filter((p): p is number => p !== undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    const servers = [...this.servers];
    this.servers.clear();
    await Promise.all(servers.map((s) => s.close(this.options.killGraceMs ?? 2000)));
  }

  private live(): SharedAppServer[] {
    return [...this.servers].filter((s) => !s.isEnded && !s.retiring);
  }

  private spawn(): SharedAppServer {
    const { bin, args, env } = this.options.command;
    const server = new SharedAppServer({
      bin,
      args,
      env: { ...env, [POOL_OWNER_ENV]: this.owner },
      cwd: this.options.cwd,
      processTag: randomUUID(),
      clientInfo: this.options.clientInfo,
    });
    this.servers.add(server);
    void server.client.ended.then(async () => {
      const wasServing = this.servers.delete(server) && !server.retiring;
      await server.close(this.options.killGraceMs ?? 2000); // what it started, in its group and tagged
      // Replace a process that crashed after it had started properly (not one that cannot start:
      // that would loop), so the next turn finds a warm one.
      const started = await server.ready.then(
        () => true,
        () => false,
      );
      if (wasServing && started && !this.closed) this.spawn();
    });
    return server;
  }

  private retire(server: SharedAppServer): void {
    this.servers.delete(server);
    void server.close(this.options.killGraceMs ?? 2000);
  }

  private sweepOnce(): void {
    if (this.swept) return;
    this.swept = true;
    sweepOrphanedPools();
  }
}
