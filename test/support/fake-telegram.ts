// A fake Telegram Bot API on 127.0.0.1 for the real Hermes gateway's Telegram adapter
// (python-telegram-bot), reached through the adapter's `platforms.telegram.extra.base_url`:
// requests arrive as `POST /bot<token>/<method>` with a form-encoded or JSON body.
//
// What the adapter calls: getMe (initialize, and its heartbeat), deleteWebhook, getUpdates (long
// polling; held open here for at most a second), setMyCommands / getMyCommands /
// setChatMenuButton (post-connect housekeeping), sendChatAction (typing), and for a message
// sendMessage (MarkdownV2, plain-text fallback) or sendRichMessage. Unknown methods answer `true`.
//
// Messages (sendMessage / sendRichMessage) are recorded per chat; `behave()` makes the next ones
// slow, fail with a Bot API error (400 "chat not found"…), or refused at the connection. A slow
// message that ends `ok` counts as delivered even if the client gave up waiting first — as on the
// real Telegram, where the chat shows a message whose answer the bot never read.
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { countBy, parseJson, readBody, stopServer } from './http-kit';

export interface TelegramMessage {
  /** When the request arrived (ms since the epoch). */
  receivedAt: number;
  /** sendMessage or sendRichMessage. */
  method: string;
  chatId: string;
  /** message_thread_id, "" when none. */
  threadId: string;
  text: string;
  parseMode: string | null;
  /** The sendMessage `disable_notification` flag: true = silent (no push notification). */
  disableNotification: boolean;
  /** Every parameter as received. */
  params: Record<string, unknown>;
  /** What the fake answered: the message id, the error it was told to give, or not yet (slow). */
  outcome:
    | { ok: true; messageId: number }
    | { ok: false; status: number; description: string }
    | { ok: false; refused: true }
    | { ok: false; pending: true };
}

export type TelegramBehaviour =
  /** Answer at once (default). */
  | { kind: 'ok' }
  /** Accept and record the message, answer after delayMs (then as `then`, default ok). */
  | { kind: 'slow'; delayMs: number; then?: TelegramFailure | { kind: 'ok' } }
  /** Answer with a Bot API error, e.g. 400 "Bad Request: chat not found". */
  | TelegramFailure
  /** Destroy the connection without an answer. */
  | { kind: 'refuse' };

export interface TelegramFailure {
  kind: 'fail';
  status: number;
  description: string;
}

export const CHAT_NOT_FOUND: TelegramFailure = {
  kind: 'fail',
  status: 400,
  description: 'Bad Request: chat not found',
};

export interface FakeTelegram {
  /** For `platforms.telegram.extra.base_url` (the bot token is appended by the client). */
  baseUrl: string;
  token: string;
  /** Every Bot API call, in order: method names. */
  calls: string[];
  /** getUpdates requests answered so far (the adapter can send only after the first). */
  readonly pollsAnswered: number;
  /** sendMessage / sendRichMessage requests, including failed ones. */
  messages: TelegramMessage[];
  /** Messages the fake answered with success (what a chat shows). */
  delivered(chatId?: string): TelegramMessage[];
  /** Successful messages per `chat_id[:thread_id]`. */
  countByChat(): Record<string, number>;
  /** How the next message requests are answered: `count` of them (default: all until changed). */
  behave(behaviour: TelegramBehaviour, count?: number): void;
  /** Resolves once `method` has been called `count` times. */
  waitForCall(method: string, count?: number, timeoutMs?: number): Promise<void>;
  /** Resolves once `count` messages (to `chatId`, when given) were answered with success. */
  waitForDelivered(count: number, chatId?: string, timeoutMs?: number): Promise<TelegramMessage[]>;
  stop(): Promise<void>;
}

const MESSAGE_METHODS = new Set(['sendMessage', 'sendRichMessage']);
const BOT = {
  id: 4242,
  is_bot: true,
  first_name: 'codex-bridge test bot',
  username: 'codex_bridge_test_bot',
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};

export async function startFakeTelegram(options: { token?: string } = {}): Promise<FakeTelegram> {
  // A token of its own per fake: the gateway refuses a token another gateway already holds.
  const token =
    options.token ??
    `${100000 + Math.floor(Math.random() * 900000)}:codex-bridge-test-${randomBytes(6).toString('hex')}`;
  const calls: string[] = [];
  const messages: TelegramMessage[] = [];
  const heldPolls = new Set<{ timer: NodeJS.Timeout; res: http.ServerResponse }>();
  const pending: { behaviour: TelegramBehaviour; left: number }[] = [];
  let nextMessageId = 1;
  let polls = 0;
  let stopping = false;

  const nextBehaviour = (): TelegramBehaviour => {
    const head = pending[0];
    if (!head) return { kind: 'ok' };
    if (Number.isFinite(head.left) && --head.left <= 0) pending.shift();
    return head.behaviour;
  };

  const answer = (res: http.ServerResponse, status: number, body: unknown) => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const server = http.createServer(async (req, res) => {
    const raw = await readBody(req);
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec((req.url ?? '').split('?')[0]!);
    if (!match) return answer(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const [, gotToken, method] = match as unknown as [string, string, string];
    if (gotToken !== token) return answer(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    calls.push(method);
    const params = parseParams(req.headers['content-type'] ?? '', raw);

    if (method === 'getMe') return answer(res, 200, { ok: true, result: BOT });
    if (method === 'getUpdates') {
      // Long polling, held at most a second: the adapter keeps its send path "degraded" (every
      // send fails) until a getUpdates has come back, so the first one is answered at once.
      const waitMs = polls === 0 ? 0 : Math.min(Number(params.timeout ?? 0) * 1000, 1000);
      const done = () => {
        polls += 1;
        answer(res, 200, { ok: true, result: [] });
      };
      if (stopping || waitMs <= 0) return done();
      const held = {
        res,
        timer: setTimeout(() => {
          heldPolls.delete(held);
          done();
        }, waitMs),
      };
      heldPolls.add(held);
      res.on('close', () => {
        clearTimeout(held.timer);
        heldPolls.delete(held);
      });
      return;
    }
    if (method === 'getWebhookInfo')
      return answer(res, 200, {
        ok: true,
        result: { url: '', has_custom_certificate: false, pending_update_count: 0 },
      });
    if (method === 'getMyCommands') return answer(res, 200, { ok: true, result: [] });
    if (!MESSAGE_METHODS.has(method)) return answer(res, 200, { ok: true, result: true });

    const chatId = String(params.chat_id ?? '');
    const record: TelegramMessage = {
      receivedAt: Date.now(),
      method,
      chatId,
      threadId:
        params.message_thread_id === undefined || params.message_thread_id === null
          ? ''
          : String(params.message_thread_id),
      text: String(params.text ?? params.rich_message ?? params.content ?? ''),
      parseMode: typeof params.parse_mode === 'string' ? params.parse_mode : null,
      disableNotification: params.disable_notification === true || params.disable_notification === 'true',
      params,
      outcome: { ok: false, pending: true },
    };
    messages.push(record);
    let behaviour = nextBehaviour();
    if (behaviour.kind === 'slow') {
      const { delayMs, then } = behaviour;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      behaviour = then ?? { kind: 'ok' };
    }
    if (behaviour.kind === 'refuse') {
      record.outcome = { ok: false, refused: true };
      req.socket.destroy();
      return;
    }
    if (behaviour.kind === 'fail') {
      record.outcome = { ok: false, status: behaviour.status, description: behaviour.description };
      return answer(res, behaviour.status, {
        ok: false,
        error_code: behaviour.status,
        description: behaviour.description,
      });
    }
    const messageId = nextMessageId++;
    record.outcome = { ok: true, messageId };
    const chat = /^-/.test(chatId)
      ? { id: Number(chatId), type: 'supergroup', title: 'test group' }
      : { id: Number(chatId) || 1, type: 'private', first_name: 'tester' };
    answer(res, 200, {
      ok: true,
      result: {
        message_id: messageId,
        date: Math.floor(Date.now() / 1000),
        chat,
        from: BOT,
        text: record.text,
        ...(record.threadId ? { message_thread_id: Number(record.threadId), is_topic_message: true } : {}),
      },
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const delivered = (chatId?: string) =>
    messages.filter((m) => m.outcome.ok && (chatId === undefined || m.chatId === chatId));
  const poll = async (done: () => boolean, what: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline)
        throw new Error(
          `fake Telegram: ${what} did not happen within ${timeoutMs} ms (calls: ${calls.join(', ') || 'none'})`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  return {
    baseUrl: `http://127.0.0.1:${port}/bot`,
    token,
    calls,
    get pollsAnswered() {
      return polls;
    },
    messages,
    delivered,
    countByChat: () => countBy(delivered(), (m) => (m.threadId ? `${m.chatId}:${m.threadId}` : m.chatId)),
    behave(behaviour, count = Infinity) {
      pending.length = 0;
      pending.push({ behaviour, left: count });
    },
    waitForCall: (method, count = 1, timeoutMs = 60_000) =>
      poll(() => calls.filter((c) => c === method).length >= count, `${count} × ${method}`, timeoutMs),
    async waitForDelivered(count, chatId, timeoutMs = 30_000) {
      await poll(
        () => delivered(chatId).length >= count,
        `${count} delivered message(s)${chatId ? ` to ${chatId}` : ''}`,
        timeoutMs,
      );
      return delivered(chatId);
    },
    async stop() {
      stopping = true;
      for (const held of heldPolls) {
        clearTimeout(held.timer);
        answer(held.res, 200, { ok: true, result: [] });
      }
      heldPolls.clear();
      await stopServer(server);
    },
  };
}

/** python-telegram-bot posts form-encoded parameters (JSON-encoding non-string values); accept JSON too. */
function parseParams(contentType: string, raw: string): Record<string, unknown> {
  if (contentType.includes('application/json')) {
    const parsed = parseJson(raw);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  }
  const params: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw))
    params[key] = value === 'true' ? true : value === 'false' ? false : value;
  return params;
}

/** The text of a MarkdownV2 message without its escapes (the adapter escapes plain text for Telegram). */
export function telegramPlainText(markdownV2: string): string {
  return markdownV2.replace(/\\([_*[\]()~`>#+\-=|{}.!\\])/g, '$1');
}
