// Where a turn runs: an app-server spawned for it (and ended with it), or a thread on a pooled,
// long-lived app-server. The runner drives both alike; the hosts differ in how the thread is
// opened, which processes carry the turn's tag, and what ending the turn ends.
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { AppServerClient } from './app-server-client';
import type { ClientMethod, ClientRequests, ServerNotification, ServerRequest } from './app-server-methods';
import { IGNORED_NOTIFICATIONS } from './app-server-methods';
import type { AppServerPool } from './app-server-pool';
import { killTaggedProcesses, POOL_OWNER_ENV, PROCESS_TAG_ENV } from './process-sweep';
import type { SharedAppServer } from './shared-app-server';

/** Per-task settings, given to every thread it starts or resumes. */
export interface ThreadSettings {
  cwd: string;
  approvalPolicy: ClientRequests['thread/start']['params']['approvalPolicy'];
  sandbox: ClientRequests['thread/start']['params']['sandbox'];
  model?: string;
}

export interface TurnEnd {
  settled: boolean;
  stuck: boolean;
  ranCommands: boolean;
}

type Request = <M extends ClientMethod>(
  method: M,
  params: ClientRequests[M]['params'],
) => Promise<ClientRequests[M]['result']>;

export interface TurnHost {
  readonly pid: number | null;
  /** The tag the turn's processes carry (the heartbeat reports it; a retry reaps by it). */
  readonly processTag: string;
  readonly bin: string;
  /** Resolves with the reason the app-server went away. */
  readonly ended: Promise<Error>;
  readonly isEnded: boolean;
  onNotification(listener: (notification: ServerNotification) => void): void;
  handleServerRequests(handler: (request: ServerRequest) => Promise<unknown>): void;
  /** Starts a thread, or resumes `threadId`; resolves with its id. */
  openThread(threadId: string | null, settings: ThreadSettings): Promise<string>;
  request: Request;
  /**
   * After the turn: nothing it started may be left. `settled`: the turn is known to be over;
   * `stuck`: it was asked to stop and did not report it in time; `ranCommands`: it started
   * command executions (only those start processes).
   */
  finish(outcome: TurnEnd): Promise<void>;
}

const CLIENT_CAPABILITIES = {
  experimentalApi: false,
  requestAttestation: false,
  optOutNotificationMethods: IGNORED_NOTIFICATIONS,
};

/** A fresh app-server for one turn, in its own process group; the turn's end is the process's. */
export class SpawnedTurnHost implements TurnHost {
  private readonly client: AppServerClient;

  constructor(
    private readonly options: {
      bin: string;
      args: string[];
      env: NodeJS.ProcessEnv;
      cwd: string;
      processTag?: string;
      clientInfo: { name: string; title: string; version: string };
      killGraceMs: number;
    },
  ) {
    this.client = new AppServerClient({
      bin: options.bin,
      args: options.args,
      env: options.env,
      cwd: options.cwd,
      processTag: options.processTag,
    });
  }

  get pid(): number | null {
    return this.client.pid ?? null;
  }
  get processTag(): string {
    return this.client.processTag;
  }
  get bin(): string {
    return this.options.bin;
  }
  get ended(): Promise<Error> {
    return this.client.ended;
  }
  get isEnded(): boolean {
    return this.client.isEnded;
  }

  onNotification(listener: (notification: ServerNotification) => void): void {
    this.client.onNotification(listener);
  }

  handleServerRequests(handler: (request: ServerRequest) => Promise<unknown>): void {
    this.client.handleServerRequests(handler);
  }

  request: Request = (method, params) => this.client.request(method, params);

  async openThread(threadId: string | null, settings: ThreadSettings): Promise<string> {
    await this.client.request('initialize', { clientInfo: this.options.clientInfo, capabilities: CLIENT_CAPABILITIES });
    this.client.notify('initialized');
    const { thread } = threadId
      ? await this.client.request('thread/resume', { threadId, excludeTurns: true, ...settings })
      : await this.client.request('thread/start', settings);
    return thread.id;
  }

  finish(): Promise<void> {
    return this.client.close(this.options.killGraceMs);
  }
}

/**
 * A thread on a pooled app-server. The thread's commands carry the turn's own process tag (set
 * per thread through `shell_environment_policy`), so that what the turn started can be ended
 * without touching the process or the other turns on it.
 */
export class PooledTurnHost implements TurnHost {
  private readonly server: SharedAppServer;
  private notificationListener: (notification: ServerNotification) => void = () => undefined;
  private requestHandler: (request: ServerRequest) => Promise<unknown> = () => Promise.reject(new Error('no handler'));
  private unroute: (() => void) | undefined;
  private turnStart: Promise<{ threadId: string; turnId: string } | null> | undefined;
  readonly processTag: string;

  constructor(
    private readonly pool: AppServerPool,
    threadId: string | null,
    processTag: string | undefined,
  ) {
    this.server = pool.acquire(threadId);
    this.processTag =
      (threadId !== null ? this.server.threadTags.get(threadId) : undefined) ?? processTag ?? randomUUID();
  }

  get pid(): number | null {
    return this.server.pid ?? null;
  }
  get bin(): string {
    return this.pool.options.command.bin;
  }
  get ended(): Promise<Error> {
    return this.server.client.ended;
  }
  get isEnded(): boolean {
    return this.server.isEnded;
  }

  onNotification(listener: (notification: ServerNotification) => void): void {
    this.notificationListener = listener;
  }

  handleServerRequests(handler: (request: ServerRequest) => Promise<unknown>): void {
    this.requestHandler = handler;
  }

  request: Request = (method, params) => {
    const sent = this.server.client.request(method, params);
    if (method === 'turn/start') {
      const threadId = (params as ClientRequests['turn/start']['params']).threadId;
      this.turnStart = (sent as Promise<ClientRequests['turn/start']['result']>).then(
        ({ turn }) => ({ threadId, turnId: turn.id }),
        () => null,
      );
    }
    return sent;
  };

  async openThread(threadId: string | null, settings: ThreadSettings): Promise<string> {
    await this.server.ready;
    // The shared process's events run in the context of whoever started it; the turn's handlers
    // run in the turn's own (the activity's, which its hooks read through Context.current()).
    const route = {
      onNotification: AsyncResource.bind((n: ServerNotification) => this.notificationListener(n)),
      onServerRequest: AsyncResource.bind((r: ServerRequest) => this.requestHandler(r)),
    };
    const loaded = threadId !== null && this.server.threadTags.has(threadId);
    const config = {
      [`shell_environment_policy.set.${PROCESS_TAG_ENV}`]: this.processTag,
      [`shell_environment_policy.set.${POOL_OWNER_ENV}`]: this.pool.owner,
    };
    // A resumed thread's notifications (its usage so far) may follow the reply at once: route first.
    if (threadId !== null) this.unroute = this.server.route(threadId, route);
    const { thread } = threadId
      ? await this.server.client.request('thread/resume', { threadId, excludeTurns: true, ...settings, config })
      : await this.server.client.request('thread/start', { ...settings, config });
    if (threadId === null) this.unroute = this.server.route(thread.id, route);
    if (!loaded) {
      this.server.threadsLoaded += 1;
      this.server.threadTags.set(thread.id, this.processTag);
    } else {
      const usage = this.server.lastUsage.get(thread.id);
      if (usage) this.notificationListener(usage); // the usage before this turn, as a fresh resume reports it
    }
    return thread.id;
  }

  async finish({ settled, stuck, ranCommands }: TurnEnd): Promise<void> {
    this.unroute?.();
    // Stopped while turn/start was on its way: that turn must not run on unattended.
    if (!settled && this.turnStart) {
      void this.turnStart.then((started) => {
        if (started && !this.server.isEnded)
          this.server.client.request('turn/interrupt', started).catch(() => undefined);
      });
    }
    try {
      // Scanning /proc takes milliseconds: only when the turn may have started something.
      if (ranCommands || !settled) await killTaggedProcesses(this.processTag, 500);
    } finally {
      this.pool.release(this.server, stuck);
    }
  }
}
