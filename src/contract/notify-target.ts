// The notify_target grammar (the README's target table), parsed once into a typed value.
// Pure (no Node APIs): the workflow validates its input with it too.

export type NotifyTarget =
  | { kind: 'local' }
  | { kind: 'feishu'; chatId: string }
  | { kind: 'hermes'; platform: string; chatId: string; threadId: string | null }
  | { kind: 'webhook'; url: string };

export type NotifyTargetKind = NotifyTarget['kind'];

export class InvalidNotifyTargetError extends Error {
  override readonly name = 'InvalidNotifyTargetError';
}

const GRAMMAR = 'local, feishu:<chat_id>, hermes:<platform>:<chat_id>[:<thread_id>] or webhook:<http(s) url>';
const ID = /^[A-Za-z0-9_.@!+=-]{1,128}$/;
const PLATFORM = /^[a-z][a-z0-9_]{0,31}$/;
const HTTP_URL = /^https?:\/\/[^\s/?#:@]+(:\d{1,5})?([/?#][^\s]*)?$/i;
const MAX_TARGET_LENGTH = 2048;

/** Parses a notify_target string; throws InvalidNotifyTargetError with one sentence when it is malformed. */
export function parseNotifyTarget(raw: string): NotifyTarget {
  const fail = (why: string): never => {
    throw new InvalidNotifyTargetError(
      `notify_target "${truncateForMessage(raw)}" is invalid: ${why}; expected ${GRAMMAR}.`,
    );
  };
  if (typeof raw !== 'string' || raw.trim() === '') fail('it is empty');
  if (raw.length > MAX_TARGET_LENGTH) fail(`it is longer than ${MAX_TARGET_LENGTH} characters`);
  if (raw !== raw.trim()) fail('it has leading or trailing spaces');
  if (raw === 'local') return { kind: 'local' };

  const colon = raw.indexOf(':');
  const scheme = colon < 0 ? raw : raw.slice(0, colon);
  const rest = colon < 0 ? '' : raw.slice(colon + 1);
  switch (scheme) {
    case 'feishu':
      if (!ID.test(rest)) fail('the Feishu chat id must be 1-128 letters, digits or _-.');
      return { kind: 'feishu', chatId: rest };
    case 'hermes': {
      const parts = rest.split(':');
      if (parts.length < 2 || parts.length > 3)
        fail('a Hermes target has a platform, a chat id and an optional thread id');
      const [platform, chatId, threadId] = parts as [string, string, string | undefined];
      if (!PLATFORM.test(platform)) fail('the Hermes platform must be a lowercase name such as telegram or slack');
      if (!ID.test(chatId)) fail('the Hermes chat id must be 1-128 letters, digits or _-.');
      if (threadId !== undefined && !ID.test(threadId))
        fail('the Hermes thread id must be 1-128 letters, digits or _-.');
      return { kind: 'hermes', platform, chatId, threadId: threadId ?? null };
    }
    case 'webhook':
      if (!HTTP_URL.test(rest)) fail('the webhook needs an absolute http:// or https:// URL');
      return { kind: 'webhook', url: rest };
    default:
      return fail(`unknown kind "${truncateForMessage(scheme)}"`);
  }
}

/** The canonical string form of a parsed target (what is stored and shown). */
export function formatNotifyTarget(target: NotifyTarget): string {
  switch (target.kind) {
    case 'local':
      return 'local';
    case 'feishu':
      return `feishu:${target.chatId}`;
    case 'hermes':
      return `hermes:${target.platform}:${target.chatId}${target.threadId ? `:${target.threadId}` : ''}`;
    case 'webhook':
      return `webhook:${target.url}`;
  }
}

/** Webhook URLs may carry credentials in their query; show only scheme, host and path. */
export function describeNotifyTarget(raw: string): string {
  if (!raw.startsWith('webhook:')) return raw;
  return raw.replace(/[?#].*$/, '?…');
}

function truncateForMessage(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
