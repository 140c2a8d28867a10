// `local`: one JSON line per message in the inbox file (CODEX_BRIDGE_LOCAL_INBOX), plus one line
// on stderr. The file is the de-duplication record: a key already in it is not written again.
//
// Check-then-append must be atomic, or two deliveries of the same key (a retried activity racing
// its timed-out predecessor, two workers on one machine) could both miss the key and both write.
// An in-process mutex orders calls within this process; an exclusive lock file (O_CREAT|O_EXCL)
// orders processes. Lines are appended with O_APPEND so a line is never interleaved.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NotifyError, type DeliveryReceipt, type NotificationMessage, type Notifier } from './notifier';
import { redactMessage } from './redact';

export interface LocalNotifierOptions {
  inboxPath: string;
  /** Where the one log line goes (default: stderr). */
  log?: (line: string) => void;
  now?: () => Date;
  /** A lock file older than this is left over from a crashed process and is broken (default 10 s). */
  staleLockMs?: number;
  /** Give up waiting for the lock after this long (retryable) (default 10 s). */
  lockTimeoutMs?: number;
}

/** One line of the inbox file. */
export interface InboxLine {
  idempotency_key: string;
  task_id: string;
  turn: number;
  kind: string;
  title: string;
  text: string;
  url: string | null;
  delivered_at: string;
}

/** Per-file queues shared by every local notifier in this process. */
const fileQueues = new Map<string, Promise<unknown>>();

export function createLocalNotifier(opts: LocalNotifierOptions): Notifier {
  const inbox = path.resolve(opts.inboxPath);
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = opts.now ?? (() => new Date());

  return async function notifyLocal(
    target,
    message: NotificationMessage,
    idempotencyKey: string,
  ): Promise<DeliveryReceipt> {
    if (target.kind !== 'local')
      throw new NotifyError(`The local notifier cannot deliver to a ${target.kind} target.`, false);
    const safe = redactMessage(message);
    try {
      return await serialised(inbox, () =>
        withLockFile(inbox, opts, async () => {
          const existing = await readInbox(inbox);
          const seen = findLine(existing, idempotencyKey);
          if (seen)
            return {
              channel: 'local',
              deliveredAt: seen.delivered_at,
              messageId: idempotencyKey,
              duplicate: true,
            } satisfies DeliveryReceipt;

          const line: InboxLine = {
            idempotency_key: idempotencyKey,
            task_id: safe.taskId,
            turn: safe.turn,
            kind: safe.kind,
            title: safe.title,
            text: safe.text,
            url: safe.url,
            delivered_at: now().toISOString(),
          };
          // A line cut short by a crash must not swallow the next one.
          const prefix = existing.length > 0 && !existing.endsWith('\n') ? '\n' : '';
          await fs.appendFile(inbox, `${prefix}${JSON.stringify(line)}\n`, { flag: 'a' });
          log(`codex-bridge: ${safe.title} → ${inbox}`);
          return {
            channel: 'local',
            deliveredAt: line.delivered_at,
            messageId: idempotencyKey,
            duplicate: false,
          } satisfies DeliveryReceipt;
        }),
      );
    } catch (err) {
      throw toNotifyError(err, inbox);
    }
  };
}

/** Reads every line of an inbox file (for the CLI and tests); skips lines that are not JSON. */
export async function readInboxLines(inboxPath: string): Promise<InboxLine[]> {
  return parseLines(await readInbox(path.resolve(inboxPath)));
}

async function serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = fileQueues.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  fileQueues.set(key, settled);
  try {
    return await run;
  } finally {
    if (fileQueues.get(key) === settled) fileQueues.delete(key);
  }
}

async function withLockFile<T>(inbox: string, opts: LocalNotifierOptions, fn: () => Promise<T>): Promise<T> {
  const lock = `${inbox}.lock`;
  const staleMs = opts.staleLockMs ?? 10_000;
  const deadline = Date.now() + (opts.lockTimeoutMs ?? 10_000);
  await fs.mkdir(path.dirname(inbox), { recursive: true });
  for (;;) {
    try {
      const handle = await fs.open(lock, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await fs
        .stat(lock)
        .then((s) => Date.now() - s.mtimeMs)
        .catch(() => 0);
      if (age > staleMs) {
        await fs.rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new NotifyError(`The local inbox ${inbox} stayed locked by ${lock}; will retry.`, true);
      await new Promise((r) => setTimeout(r, 15));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { force: true });
  }
}

async function readInbox(inbox: string): Promise<string> {
  try {
    return await fs.readFile(inbox, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

function parseLines(content: string): InboxLine[] {
  const lines: InboxLine[] = [];
  for (const raw of content.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      lines.push(JSON.parse(raw) as InboxLine);
    } catch {
      // A line cut short by a crash: not a delivery.
    }
  }
  return lines;
}

function findLine(content: string, key: string): InboxLine | undefined {
  // Cheap substring test first: the inbox grows, and most calls carry a new key.
  if (!content.includes(JSON.stringify(key).slice(1, -1))) return undefined;
  return parseLines(content).find((l) => l.idempotency_key === key);
}

function toNotifyError(err: unknown, inbox: string): Error {
  if (err instanceof NotifyError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EISDIR') {
    return new NotifyError(
      `The local inbox ${inbox} is not writable (${code}): point CODEX_BRIDGE_LOCAL_INBOX at a writable file.`,
      false,
    );
  }
  return new NotifyError(
    `Writing the local inbox ${inbox} failed (${code ?? (err as Error).message}); will retry.`,
    true,
  );
}
