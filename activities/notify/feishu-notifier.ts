// `feishu:<chat_id>`: a bot message through the Feishu/Lark Open API, sent with the official SDK.
// The SDK gets its own token cache (so a token refresh here cannot disturb another client in the
// process, and so 99991663 can drop exactly this app's token) and a transport with a timeout
// (feishu-http.ts). Retry rules live in feishu-errors.ts; the card in feishu-message.ts.
import { Client, LoggerLevel, type Cache } from '@larksuiteoapi/node-sdk';
import type { NotifyTarget } from '../../src/contract/notify-target';
import { classifyFeishuFailure, type FeishuVerdict } from './feishu-errors';
import { createFeishuHttp } from './feishu-http';
import { buildFeishuMessage, feishuUuid } from './feishu-message';
import { progressKey } from '../../src/contract/idempotency';
import { NotifyError, type DeliveryReceipt, type NotificationMessage, type Notifier } from './notifier';
import { redactMessage } from './redact';

export interface FeishuNotifierOptions {
  appId: string | undefined;
  appSecret: string | undefined;
  /** FEISHU_BASE_URL, e.g. https://open.feishu.cn (or a local fake in tests). */
  baseUrl: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  now?: () => Date;
}

/** The key type of the SDK's Cache contract (it spells the symbol half as the wrapper type). */
type CacheKey = Parameters<Cache['get']>[0];

/** The SDK's Cache contract, with clear() for a token Feishu declared invalid. */
export class FeishuTokenCache implements Cache {
  private readonly values = new Map<string, { value: unknown; expiresAt: number | undefined }>();

  async get(key: CacheKey, options?: { namespace?: string }): Promise<unknown> {
    const entry = this.values.get(cacheKey(key, options));
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) return undefined;
    return entry.value;
  }

  async set(key: CacheKey, value: unknown, expiresAt?: number, options?: { namespace?: string }): Promise<boolean> {
    this.values.set(cacheKey(key, options), { value, expiresAt });
    return true;
  }

  clear(): void {
    this.values.clear();
  }
}

function cacheKey(key: CacheKey, options?: { namespace?: string }): string {
  return `${options?.namespace ?? ''}/${String(key)}`;
}

const silentLogger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, trace: () => {} };

/** One Feishu call with the retry rules: a token Feishu declared invalid is refreshed once. */
export type FeishuCall = <T extends { code?: number }>(
  chatId: string,
  request: (client: Client) => Promise<T>,
) => Promise<T>;

/** The app's SDK client, built on first use, and the one way to call it. */
export function createFeishuCaller(opts: FeishuNotifierOptions): FeishuCall {
  let sdk: { client: Client; cache: FeishuTokenCache } | null = null;

  function connect(): { client: Client; cache: FeishuTokenCache } {
    if (sdk) return sdk;
    const missing = !opts.appId ? 'FEISHU_APP_ID' : !opts.appSecret ? 'FEISHU_APP_SECRET' : null;
    if (missing)
      throw new NotifyError(
        `${missing} is missing: set FEISHU_APP_ID and FEISHU_APP_SECRET to the Feishu app's credentials.`,
        false,
      );
    const cache = new FeishuTokenCache();
    const client = new Client({
      appId: opts.appId!,
      appSecret: opts.appSecret!,
      domain: opts.baseUrl.replace(/\/+$/, ''),
      cache,
      httpInstance: createFeishuHttp({ timeoutMs: opts.timeoutMs ?? 10_000 }),
      // The SDK logs every failure at error level; ours are classified and reported by the caller.
      logger: silentLogger,
      loggerLevel: LoggerLevel.error,
      source: 'codex-bridge',
    });
    sdk = { client, cache };
    return sdk;
  }

  return async (chatId, request) => {
    const { client, cache } = connect();
    for (let refreshed = false; ; refreshed = true) {
      let verdict: FeishuVerdict;
      try {
        const res = await request(client);
        if (!res.code) return res;
        verdict = classifyFeishuFailure(res, chatId);
      } catch (err) {
        verdict = classifyFeishuFailure(err, chatId);
      }
      if (verdict.action === 'refresh_token' && !refreshed) {
        cache.clear();
        continue;
      }
      throw new NotifyError(verdict.message, verdict.action !== 'reject', verdict.retryAfterMs);
    }
  };
}

export function createFeishuNotifier(opts: FeishuNotifierOptions & { progressCards?: boolean }): Notifier {
  const now = opts.now ?? (() => new Date());
  const call = createFeishuCaller(opts);

  return async function notifyFeishu(
    target: NotifyTarget,
    message: NotificationMessage,
    idempotencyKey: string,
  ): Promise<DeliveryReceipt> {
    if (target.kind !== 'feishu')
      throw new NotifyError(`The Feishu notifier cannot deliver to a ${target.kind} target.`, false);
    const data = buildFeishuMessage(target.chatId, redactMessage(message), idempotencyKey);
    const send = (uuid: string) =>
      call(target.chatId, (client) =>
        client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { ...data, uuid } }),
      );
    if (message.kind === 'completion' && opts.progressCards) {
      // The turn's progress card becomes its result card, so the chat holds one message per turn:
      // sending under the progress card's uuid finds it (Feishu answers a repeated uuid with the
      // message it posted) or, when there was none, posts the result; the edit makes it the result.
      const sent = await send(feishuUuid(progressKey(message.taskId, message.turn)));
      const messageId = sent.data?.message_id;
      if (messageId)
        await call(target.chatId, (client) =>
          client.im.v1.message.patch({ path: { message_id: messageId }, data: { content: data.content } }),
        );
      return { channel: 'feishu', deliveredAt: now().toISOString(), messageId: messageId ?? null, duplicate: false };
    }
    // The same uuid on every try: Feishu posts once per uuid within an hour.
    const res = await send(data.uuid);
    return {
      channel: 'feishu',
      deliveredAt: now().toISOString(),
      messageId: res.data?.message_id ?? null,
      duplicate: false,
    };
  };
}
