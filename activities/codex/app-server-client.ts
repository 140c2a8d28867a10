// A typed JSON-RPC client for `codex app-server` over stdio: one JSON object per line, no "jsonrpc"
// field. One instance owns one process, spawned in its own process group so that closing the client
// also ends whatever the app-server started.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { signalGroup } from '../../src/infra/managed-process';
import { killTaggedProcesses, PROCESS_TAG_ENV } from './process-sweep';
import type {
  ClientMethod,
  ClientNotificationMethod,
  ClientRequests,
  RequestId,
  ServerNotification,
  ServerRequest,
} from './app-server-methods';

export interface AppServerClientOptions {
  bin: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** How much of the end of stderr to keep for error messages. Default 16 KiB. */
  stderrTailBytes?: number;
  /** Marks the process and its descendants (see process-sweep.ts). Default: a fresh UUID. */
  processTag?: string;
}

/** The process exited (or could not start) while the client still needed it. */
export class AppServerExitedError extends Error {
  override readonly name = 'AppServerExitedError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderrTail: string,
  ) {
    super(message);
  }
}

/** The process could not be started at all (missing binary, not executable…). */
export class AppServerSpawnError extends Error {
  override readonly name = 'AppServerSpawnError';
  constructor(
    message: string,
    readonly errno: string | undefined,
  ) {
    super(message);
  }
}

/** stdout carried something that is not a JSON-RPC message: the stream can no longer be trusted. */
export class AppServerProtocolError extends Error {
  override readonly name = 'AppServerProtocolError';
  constructor(
    message: string,
    readonly line: string,
  ) {
    super(message);
  }
}

/** The app-server answered a request with a JSON-RPC error. */
export class AppServerRequestError extends Error {
  override readonly name = 'AppServerRequestError';
  constructor(
    readonly method: string,
    readonly code: number,
    readonly serverMessage: string,
  ) {
    super(`codex app-server rejected ${method}: ${serverMessage}`);
  }
}

interface Pending {
  method: string;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

type ServerRequestHandler = (request: ServerRequest) => Promise<unknown>;

// Grandchildren can keep stdout open after the app-server itself exited; don't wait for them.
const STDOUT_DRAIN_AFTER_EXIT_MS = 300;

export class AppServerClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private readonly notificationListeners = new Set<(n: ServerNotification) => void>();
  private serverRequestHandler: ServerRequestHandler | undefined;
  private nextId = 1;
  private stdoutBuffer = '';
  private readonly decoder = new StringDecoder('utf8');
  private stderrChunks: Buffer[] = [];
  private stderrBytes = 0;
  private readonly stderrLimit: number;
  private endReason: Error | undefined;
  private resolveEnded!: (reason: Error) => void;
  private resolveExited!: () => void;
  private closing: Promise<void> | undefined;
  private exitCode: number | null = null;
  private exitSignal: NodeJS.Signals | null = null;
  private hasExited = false;

  /** In the environment of the app-server and everything it starts; close() ends them all. */
  readonly processTag: string;
  /** Resolves (never rejects) with the reason the session ended: exit, spawn failure or protocol error. */
  readonly ended: Promise<Error>;
  /** Resolves once the app-server process itself has exited (or never started). */
  readonly exited: Promise<void>;

  constructor(readonly options: AppServerClientOptions) {
    this.stderrLimit = options.stderrTailBytes ?? 16 * 1024;
    this.processTag = options.processTag ?? randomUUID();
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
    this.child = spawn(options.bin, options.args, {
      cwd: options.cwd,
      env: { ...(options.env ?? process.env), [PROCESS_TAG_ENV]: this.processTag },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group: close() reaches everything the app-server started
    });
    this.child.stdout.on('data', (chunk: Buffer) => this.onStdout(this.decoder.write(chunk)));
    this.child.stderr.on('data', (chunk: Buffer) => this.onStderr(chunk));
    this.child.stdin.on('error', () => undefined); // EPIPE after exit: reported through 'exit'
    this.child.once('error', (err: NodeJS.ErrnoException) => {
      if (this.child.pid !== undefined) return; // errors of a running child also surface as 'exit'
      this.markExited(null, null);
      this.finish(new AppServerSpawnError(`could not start ${options.bin}: ${err.message}`, err.code));
    });
    this.child.once('exit', (code, signal) => {
      this.markExited(code, signal);
      const finishAfterDrain = () => this.finish(this.exitError());
      const timer = setTimeout(finishAfterDrain, STDOUT_DRAIN_AFTER_EXIT_MS);
      this.child.stdout.once('end', () => {
        clearTimeout(timer);
        finishAfterDrain();
      });
      if (this.child.stdout.readableEnded) {
        clearTimeout(timer);
        finishAfterDrain();
      }
    });
  }

  /** The process id (also its process group id), once spawned. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get isEnded(): boolean {
    return this.endReason !== undefined;
  }

  /** The end of what the app-server wrote to stderr, ANSI colours removed. */
  get stderrTail(): string {
    return stripAnsi(Buffer.concat(this.stderrChunks).toString('utf8'));
  }

  request<M extends ClientMethod>(
    method: M,
    params: ClientRequests[M]['params'],
  ): Promise<ClientRequests[M]['result']> {
    if (this.endReason) return Promise.reject(this.endReason);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (r: unknown) => void, reject });
      this.write({ id, method, params });
    });
  }

  notify(method: ClientNotificationMethod, params?: unknown): void {
    this.write(params === undefined ? { method } : { method, params });
  }

  /** Subscribes to server notifications; returns the unsubscribe function. A listener that throws ends the session. */
  onNotification(listener: (notification: ServerNotification) => void): () => void {
    this.notificationListeners.add(listener);
    return () => this.notificationListeners.delete(listener);
  }

  /**
   * Sets the one handler for server requests. Its result is sent back as `{id, result}`; a thrown
   * error as a JSON-RPC error. Without a handler every server request gets "method not found".
   */
  handleServerRequests(handler: ServerRequestHandler): void {
    this.serverRequestHandler = handler;
  }

  /**
   * Ends the process: closes stdin (the app-server exits 0 on EOF), then SIGTERM and SIGKILL to
   * the process group, each after graceMs; then ends every descendant that left the group.
   * Resolves once all of them have exited.
   */
  close(graceMs = 2000): Promise<void> {
    this.closing ??= this.shutDown(graceMs);
    return this.closing;
  }

  private async shutDown(graceMs: number): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) return this.exited;
    if (!this.hasExited) {
      this.child.stdin.end();
      await this.waitForExit(graceMs);
    }
    if (!this.hasExited) {
      signalGroup(pid, 'SIGTERM');
      await this.waitForExit(graceMs);
    }
    if (!this.hasExited) {
      signalGroup(pid, 'SIGKILL');
      await this.exited;
    }
    signalGroup(pid, 'SIGKILL'); // whatever the app-server left behind in its group
    await killTaggedProcesses(this.processTag, graceMs);
  }

  private waitForExit(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      void this.exited.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private write(message: object): void {
    if (this.endReason || !this.child.stdin.writable) return;
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  private onStdout(text: string): void {
    this.stdoutBuffer += text;
    let newline: number;
    while (!this.endReason && (newline = this.stdoutBuffer.indexOf('\n')) >= 0) {
      const line = this.stdoutBuffer.slice(0, newline).trim();
      this.stdoutBuffer = this.stdoutBuffer.slice(newline + 1);
      if (line !== '') this.onLine(line);
    }
  }

  private onLine(line: string): void {
    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      message = parsed as Record<string, unknown>;
    } catch {
      this.failProtocol(line, 'a line that is not JSON');
      return;
    }
    const hasId = typeof message.id === 'number' || typeof message.id === 'string';
    const method = typeof message.method === 'string' ? message.method : undefined;
    if (hasId && method !== undefined) this.onServerRequest(message as unknown as ServerRequest);
    else if (hasId && ('result' in message || 'error' in message)) this.onResponse(message);
    else if (method !== undefined) this.onServerNotification(message as unknown as ServerNotification);
    else this.failProtocol(line, 'a JSON object that is neither a request, a response nor a notification');
  }

  private onResponse(message: Record<string, unknown>): void {
    const pending = this.pending.get(message.id as number);
    if (!pending) return; // not ours (ids we never sent): nothing waits for it
    this.pending.delete(message.id as number);
    if ('error' in message && message.error) {
      const error = message.error as { code?: unknown; message?: unknown };
      pending.reject(
        new AppServerRequestError(pending.method, Number(error.code ?? 0), String(error.message ?? 'unknown error')),
      );
    } else {
      pending.resolve(message.result);
    }
  }

  private onServerNotification(notification: ServerNotification): void {
    for (const listener of this.notificationListeners) {
      try {
        listener(notification);
      } catch (err) {
        // Thrown from inside a stdout 'data' handler it would crash the worker: end the session instead.
        this.finish(err instanceof Error ? err : new Error(String(err)));
        void this.close();
        return;
      }
    }
  }

  private onServerRequest(request: ServerRequest): void {
    const id: RequestId = request.id;
    const handler = this.serverRequestHandler;
    if (!handler) {
      this.write({ id, error: { code: -32601, message: `codex-bridge does not handle ${request.method}` } });
      return;
    }
    handler(request).then(
      (result) => this.write({ id, result }),
      (err: unknown) =>
        this.write({ id, error: { code: -32603, message: err instanceof Error ? err.message : String(err) } }),
    );
  }

  private onStderr(chunk: Buffer): void {
    this.stderrChunks.push(chunk);
    this.stderrBytes += chunk.length;
    while (this.stderrBytes - this.stderrChunks[0]!.length >= this.stderrLimit) {
      this.stderrBytes -= this.stderrChunks.shift()!.length;
    }
    if (this.stderrBytes > this.stderrLimit) {
      const first = this.stderrChunks[0]!;
      this.stderrChunks[0] = first.subarray(this.stderrBytes - this.stderrLimit);
      this.stderrBytes = this.stderrLimit;
    }
  }

  private failProtocol(line: string, what: string): void {
    const shown = line.length > 200 ? `${line.slice(0, 200)}…` : line;
    this.finish(new AppServerProtocolError(`codex app-server wrote ${what} on stdout: ${JSON.stringify(shown)}`, line));
    void this.close();
  }

  private markExited(code: number | null, signal: NodeJS.Signals | null): void {
    this.hasExited = true;
    this.exitCode = code;
    this.exitSignal = signal;
    this.resolveExited();
  }

  private exitError(): AppServerExitedError {
    const how = this.exitSignal ? `was killed by ${this.exitSignal}` : `exited with code ${this.exitCode}`;
    const detail = stderrSummary(this.stderrTail);
    return new AppServerExitedError(
      `codex app-server ${how}${detail ? `: ${detail}` : ''}`,
      this.exitCode,
      this.exitSignal,
      this.stderrTail,
    );
  }

  /** Ends the session once: every pending request is rejected with the reason. */
  private finish(reason: Error): void {
    if (this.endReason) return;
    this.endReason = reason;
    for (const pending of this.pending.values()) pending.reject(reason);
    this.pending.clear();
    this.resolveEnded(reason);
  }
}

/** The line(s) of stderr that explain a failure: Codex's `Error: …` block, else the last line. */
export function stderrSummary(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trimEnd());
  const start = lines.findIndex((l) => l.startsWith('Error: '));
  if (start >= 0) {
    const block: string[] = [];
    for (const line of lines.slice(start)) {
      if (line === '' || line.startsWith('Stack backtrace')) break;
      block.push(line.trim());
    }
    return block.join(' ');
  }
  return (
    lines
      .filter((l) => l.trim() !== '')
      .pop()
      ?.trim() ?? ''
  );
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
