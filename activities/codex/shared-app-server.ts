// One long-lived `codex app-server` that hosts the threads of many concurrent turns. It initializes
// once, then hands each thread's notifications and server requests to whoever registered that
// thread (sub-agent threads go where their parent goes); a message for a thread nobody waits for
// is dropped, and such a server request is refused, so nothing reaches the wrong task.
import { spawn, type ChildProcess } from 'node:child_process';
import { AppServerClient } from './app-server-client';
import { IGNORED_NOTIFICATIONS, type ServerNotification, type ServerRequest } from './app-server-methods';

export interface ThreadRoute {
  onNotification(notification: ServerNotification): void;
  onServerRequest(request: ServerRequest): Promise<unknown>;
}

export interface SharedAppServerOptions {
  bin: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  processTag: string;
  clientInfo: { name: string; title: string; version: string };
}

export class SharedAppServer {
  readonly client: AppServerClient;
  /** Resolves once `initialize` was answered; rejects if the process failed before. */
  readonly ready: Promise<void>;
  /** Turns running on this process now. */
  activeTurns = 0;
  /** Threads this process has loaded (started or resumed) since it started. */
  threadsLoaded = 0;
  /** No new turns: closed once its last turn ends (a stuck thread, or enough threads served). */
  retiring = false;
  /** Threads loaded here and the process tag their commands carry (set at thread/start). */
  readonly threadTags = new Map<string, string>();
  /**
   * The last usage report of each loaded thread: resuming a thread that is still loaded does not
   * report the usage so far again, and a turn's usage is the thread's total minus that.
   */
  readonly lastUsage = new Map<string, Extract<ServerNotification, { method: 'thread/tokenUsage/updated' }>>();
  private readonly routes = new Map<string, ThreadRoute>();
  private readonly watchdog: ChildProcess | undefined;

  constructor(options: SharedAppServerOptions) {
    const client = new AppServerClient({
      bin: options.bin,
      args: options.args,
      env: options.env,
      cwd: options.cwd,
      processTag: options.processTag,
    });
    this.client = client;
    this.watchdog = startWatchdog(this.client.pid);
    void this.client.exited.then(() => this.watchdog?.kill('SIGKILL'));
    this.client.onNotification((n) => this.dispatch(n));
    this.client.handleServerRequests((request) => {
      const params = request.params as { threadId?: unknown; conversationId?: unknown };
      const threadId =
        typeof params.threadId === 'string'
          ? params.threadId
          : typeof params.conversationId === 'string'
            ? params.conversationId
            : undefined;
      const route = threadId === undefined ? undefined : this.routes.get(threadId);
      if (!route) return Promise.reject(new Error(`no codex-bridge turn is waiting on thread ${threadId ?? '(none)'}`));
      return route.onServerRequest(request);
    });
    this.ready = (async () => {
      await client.request('initialize', {
        clientInfo: options.clientInfo,
        capabilities: {
          experimentalApi: false,
          requestAttestation: false,
          optOutNotificationMethods: IGNORED_NOTIFICATIONS,
        },
      });
      client.notify('initialized');
    })();
    this.ready.catch(() => undefined); // read by whoever acquires this process
  }

  get pid(): number | undefined {
    return this.client.pid;
  }

  get isEnded(): boolean {
    return this.client.isEnded;
  }

  /** Sends this thread's traffic to `route` until the returned function is called. */
  route(threadId: string, route: ThreadRoute): () => void {
    this.routes.set(threadId, route);
    return () => {
      for (const [id, r] of this.routes) if (r === route) this.routes.delete(id);
    };
  }

  close(graceMs: number): Promise<void> {
    return this.client.close(graceMs);
  }

  private dispatch(notification: ServerNotification): void {
    if (notification.method === 'thread/started') {
      // A sub-agent's thread belongs to the turn of its parent thread.
      const { id, parentThreadId } = notification.params.thread;
      const parent = parentThreadId ? this.routes.get(parentThreadId) : undefined;
      if (parent && !this.routes.has(id)) this.routes.set(id, parent);
      return;
    }
    if (notification.method === 'thread/closed') {
      this.threadTags.delete(notification.params.threadId);
      this.lastUsage.delete(notification.params.threadId);
      return;
    }
    if (notification.method === 'thread/tokenUsage/updated')
      this.lastUsage.set(notification.params.threadId, notification);
    const threadId = (notification.params as { threadId?: unknown } | undefined)?.threadId;
    if (typeof threadId === 'string') this.routes.get(threadId)?.onNotification(notification);
  }
}

/**
 * A parent-death watchdog: a tiny shell in the app-server's process group whose stdin is a pipe
 * from this worker. If the worker dies, however abruptly, the pipe reaches EOF and the shell kills
 * the whole group. (The app-server also exits on its own stdin's EOF; this ends what it started.)
 */
function startWatchdog(pgid: number | undefined): ChildProcess | undefined {
  if (pgid === undefined || process.platform === 'win32') return undefined;
  try {
    const watchdog = spawn('/bin/sh', ['-c', `cat > /dev/null; kill -KILL -- -${pgid} 2>/dev/null`], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    watchdog.on('error', () => undefined);
    watchdog.stdin?.on('error', () => undefined);
    // Neither the watchdog nor its pipe may keep the worker's event loop alive.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return watchdog;
  } catch {
    return undefined;
  }
}
