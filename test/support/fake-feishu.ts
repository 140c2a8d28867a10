// A fake Feishu Open API on 127.0.0.1 for tests: the two endpoints codex-bridge uses, with the
// checks and de-duplication Feishu does, and programmable failures. The real Lark SDK talks to it
// over HTTP (FEISHU_BASE_URL = fake.baseUrl).
//
//   POST /open-apis/auth/v3/tenant_access_token/internal  {app_id, app_secret} → {code, tenant_access_token, expire}
//   POST /open-apis/im/v1/messages?receive_id_type=chat_id  {receive_id, msg_type, content, uuid}
//   PATCH /open-apis/im/v1/messages/:message_id  {content}: replaces a card the bot sent; both cards
//     must declare config.update_multi, the card must be ≤ 30 KB, and at most 5 edits per second
//     per message are taken (more answer 429 / 230020, as Feishu does)
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeFrame, encodeFrame, type LarkFrame } from './lark-frame';
import { countBy, parseJson, readBody, stopServer } from './http-kit';

export type FeishuFault =
  /** Any HTTP status with an optional business body, e.g. {kind:'http', status: 500}. */
  | { kind: 'http'; status: number; code?: number; msg?: string }
  /** HTTP 429, code 99991400 and `x-ogw-ratelimit-reset: resetSeconds`. */
  | { kind: 'rate_limit'; resetSeconds: number }
  /** A business error as Feishu sends most of them: HTTP 400 (or `status`) with {code, msg}. */
  | { kind: 'business'; code: number; msg?: string; status?: number }
  /** Revokes every token issued so far and answers HTTP 400 code 99991663. */
  | { kind: 'token_invalid' }
  /** Delivers, then answers only after delayMs (a client that gives up earlier still posted). */
  | { kind: 'slow'; delayMs: number }
  /** Delivers, then closes the connection without an answer. */
  | { kind: 'drop' }
  /** Takes the request, posts nothing, and answers HTTP 500 only after delayMs (past a client's timeout). */
  | { kind: 'hang_then_fail'; delayMs: number };

export interface FeishuRecordedRequest {
  /** When the request arrived (ms since the epoch). */
  receivedAt: number;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  /** The status the fake answered (null: connection dropped). */
  status: number | null;
}

export interface FeishuDelivered {
  messageId: string;
  chatId: string;
  msgType: string;
  /** The parsed `content` JSON (a card for msg_type interactive). */
  content: unknown;
  uuid: string | null;
  at: string;
}

export interface FeishuEdit {
  messageId: string;
  /** The new card. */
  content: unknown;
  /** When the fake took it (ms since the epoch). */
  at: number;
}

/** A person clicking a card button: Feishu's `card.action.trigger` callback (schema 2.0). */
export interface FeishuClick {
  /** The bridge's callback URL. */
  callbackUrl: string;
  /** The app's Encrypt Key: the body is encrypted with it and the request signed with it. */
  encryptKey: string;
  verificationToken?: string;
  messageId: string;
  /** The button's `value`, as the card carried it. */
  value: unknown;
  operator: { open_id: string; user_id?: string };
  /** The app the callback is for (default: the fake's). */
  appId?: string;
  /** Sign with this key instead (a forged request). */
  signWith?: string;
}

export interface FakeFeishu {
  /** The values of the buttons on a message's current card, in order. */
  buttons(messageId: string): unknown[];
  /** Feishu's check of a new callback URL (`url_verification`, encrypted and signed): the URL must echo the challenge. */
  verifyCallbackUrl(
    callbackUrl: string,
    encryptKey: string,
    verificationToken: string,
  ): Promise<{ status: number; answer: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Long connections the bridge holds open (the Lark SDK's WSClient). */
  longConnections(): number;
  /** Sends a click as Feishu does over the long connection (a data frame, type event); resolves with the bridge's answer. */
  clickOverLongConnection(
    click: Omit<FeishuClick, 'callbackUrl' | 'encryptKey' | 'signWith'>,
  ): Promise<{ code: number; answer: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Sends the callback Feishu sends for a click; applies the card in the answer, as Feishu does. */
  click(click: FeishuClick): Promise<{ status: number; answer: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Edits taken (PATCH answered 200), in order; each message's `content` is its latest card. */
  edits: FeishuEdit[];
  editsOf(messageId: string): FeishuEdit[];
  /** The next `n` edit requests fail with `fault` (rate limits, errors). */
  failNextEdits(n: number, fault: FeishuFault): void;
  baseUrl: string;
  appId: string;
  appSecret: string;
  /** Every request, in order. */
  requests: FeishuRecordedRequest[];
  /** Messages actually posted (a repeated uuid posts nothing new). */
  messages: FeishuDelivered[];
  tokensIssued: string[];
  /** Requests to the send endpoint (what a rate-limit test counts). */
  sendRequests(): FeishuRecordedRequest[];
  tokenRequests(): FeishuRecordedRequest[];
  messagesTo(chatId: string): FeishuDelivered[];
  countByChat(): Record<string, number>;
  /** The next `n` send requests fail with `fault` (queued after faults already programmed). */
  failNext(n: number, fault: FeishuFault): void;
  /** Chats the bot is not a member of answer 230002. */
  removeBotFrom(chatId: string): void;
  reset(): void;
  stop(): Promise<void>;
}

export interface FakeFeishuOptions {
  appId?: string;
  appSecret?: string;
  /** `expire` of issued tokens in seconds (default 7200, as Feishu). */
  tokenExpireSeconds?: number;
}

const TOKEN_PATH = '/open-apis/auth/v3/tenant_access_token/internal';
const SEND_PATH = '/open-apis/im/v1/messages';
const WS_ENDPOINT_PATH = '/callback/ws/endpoint';
const WS_PATH = '/ws';
const MSG_TYPES = new Set([
  'text',
  'post',
  'interactive',
  'image',
  'share_chat',
  'share_user',
  'audio',
  'media',
  'file',
  'sticker',
]);

export async function startFakeFeishu(options: FakeFeishuOptions = {}): Promise<FakeFeishu> {
  // Shaped like a real app id (cli_ + 16 hex digits): the SDK's long connection refuses others.
  const appId = options.appId ?? 'cli_fa4e00000000feed';
  const appSecret = options.appSecret ?? 'fake-app-secret';
  const requests: FeishuRecordedRequest[] = [];
  const messages: FeishuDelivered[] = [];
  const tokensIssued: string[] = [];
  const validTokens = new Set<string>();
  const byUuid = new Map<string, FeishuDelivered>();
  const botNotIn = new Set<string>();
  const faults: FeishuFault[] = [];
  const edits: FeishuEdit[] = [];
  const editFaults: FeishuFault[] = [];
  const byId = new Map<string, FeishuDelivered>();
  let seq = 0;

  const server = http.createServer((req, res) => {
    void readBody(req).then(async (raw) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const record: FeishuRecordedRequest = {
        receivedAt: Date.now(),
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: parseJson(raw),
        status: null,
      };
      requests.push(record);
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(JSON.stringify(body));
      };

      if (req.method === 'POST' && url.pathname === TOKEN_PATH) {
        const b = record.body as { app_id?: unknown; app_secret?: unknown } | null;
        if (b?.app_id !== appId) return answer(400, { code: 10003, msg: 'invalid param' });
        if (b?.app_secret !== appSecret) return answer(400, { code: 10014, msg: 'app secret invalid' });
        const token = `t-fake-${++seq}`;
        tokensIssued.push(token);
        validTokens.add(token);
        return answer(200, {
          code: 0,
          msg: 'ok',
          tenant_access_token: token,
          expire: options.tokenExpireSeconds ?? 7200,
        });
      }
      if (req.method === 'POST' && url.pathname === WS_ENDPOINT_PATH) {
        // Where the SDK's WSClient asks for its long connection's address.
        const b = record.body as { AppID?: unknown; AppSecret?: unknown } | null;
        if (b?.AppID !== appId || b?.AppSecret !== appSecret)
          return answer(200, { code: 1000040345, msg: 'app id or secret is invalid' });
        const port = (server.address() as AddressInfo).port;
        return answer(200, {
          code: 0,
          msg: 'ok',
          data: {
            URL: `ws://127.0.0.1:${port}${WS_PATH}?device_id=fake-device&service_id=1`,
            ClientConfig: { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 1, ReconnectNonce: 1 },
          },
        });
      }
      if (req.method === 'PATCH' && url.pathname.startsWith(`${SEND_PATH}/`)) {
        const fault = editFaults.shift();
        if (fault?.kind === 'rate_limit')
          return answer(
            429,
            { code: 99991400, msg: 'request trigger frequency limit' },
            { 'x-ogw-ratelimit-reset': String(fault.resetSeconds) },
          );
        if (fault?.kind === 'http')
          return answer(fault.status, {
            code: fault.code ?? fault.status,
            msg: fault.msg ?? `injected HTTP ${fault.status}`,
          });
        if (fault?.kind === 'business')
          return answer(fault.status ?? 400, {
            code: fault.code,
            msg: fault.msg ?? `injected business error ${fault.code}`,
          });
        const auth = String(req.headers.authorization ?? '');
        if (!validTokens.has(auth.slice('Bearer '.length)))
          return answer(400, { code: 99991663, msg: 'Invalid access token for authorization.' });
        const message = byId.get(decodeURIComponent(url.pathname.slice(SEND_PATH.length + 1)));
        if (!message) return answer(400, { code: 230001, msg: 'message not found' });
        const b = record.body as { content?: unknown } | null;
        if (typeof b?.content !== 'string') return answer(400, { code: 230001, msg: 'content must be a JSON string' });
        if (Buffer.byteLength(b.content) > 30 * 1024)
          return answer(400, { code: 230025, msg: 'card content exceeds 30 KB' });
        const card = parseJson(b.content) as { config?: { update_multi?: unknown } } | null;
        const sent = message.content as { config?: { update_multi?: unknown } } | null;
        if (card?.config?.update_multi !== true || sent?.config?.update_multi !== true) {
          return answer(400, {
            code: 230099,
            msg: 'the card must declare config.update_multi: true when sent and when updated',
          });
        }
        const now = Date.now();
        if (edits.filter((e) => e.messageId === message.messageId && now - e.at < 1000).length >= 5) {
          return answer(400, { code: 230020, msg: 'This message is being updated too frequently.' });
        }
        message.content = card;
        edits.push({ messageId: message.messageId, content: card, at: now });
        return answer(200, { code: 0, msg: 'success', data: {} });
      }
      if (req.method !== 'POST' || url.pathname !== SEND_PATH)
        return answer(404, { code: 404, msg: `no route ${req.method} ${url.pathname}` });

      const fault = faults.shift();
      if (fault?.kind === 'hang_then_fail') {
        await new Promise((r) => setTimeout(r, fault.delayMs));
        if (!res.destroyed) answer(500, { code: 500, msg: 'injected failure after a hang' });
        return;
      }
      if (fault?.kind === 'http')
        return answer(fault.status, {
          code: fault.code ?? fault.status,
          msg: fault.msg ?? `injected HTTP ${fault.status}`,
        });
      if (fault?.kind === 'rate_limit') {
        return answer(
          429,
          { code: 99991400, msg: 'request trigger frequency limit' },
          { 'x-ogw-ratelimit-reset': String(fault.resetSeconds) },
        );
      }
      if (fault?.kind === 'business')
        return answer(fault.status ?? 400, {
          code: fault.code,
          msg: fault.msg ?? `injected business error ${fault.code}`,
        });
      if (fault?.kind === 'token_invalid') {
        validTokens.clear();
        return answer(400, {
          code: 99991663,
          msg: 'Invalid access token for authorization. Please make a request with token attached.',
        });
      }

      const auth = String(req.headers.authorization ?? '');
      if (!auth.startsWith('Bearer '))
        return answer(400, { code: 99991661, msg: 'Missing access token for authorization.' });
      if (!validTokens.has(auth.slice('Bearer '.length)))
        return answer(400, { code: 99991663, msg: 'Invalid access token for authorization.' });
      if (url.searchParams.get('receive_id_type') !== 'chat_id')
        return answer(400, { code: 230001, msg: 'invalid receive_id_type' });

      const b = record.body as { receive_id?: unknown; msg_type?: unknown; content?: unknown; uuid?: unknown } | null;
      const invalid = validateSend(b);
      if (invalid) return answer(400, { code: 230001, msg: invalid });
      const chatId = b!.receive_id as string;
      if (botNotIn.has(chatId)) return answer(400, { code: 230002, msg: 'Bot is not in the chat.' });

      const uuid = typeof b!.uuid === 'string' ? b!.uuid : null;
      let delivered = uuid ? byUuid.get(uuid) : undefined;
      if (!delivered) {
        delivered = {
          messageId: `om_fake_${++seq}`,
          chatId,
          msgType: b!.msg_type as string,
          content: JSON.parse(b!.content as string),
          uuid,
          at: new Date().toISOString(),
        };
        messages.push(delivered);
        byId.set(delivered.messageId, delivered);
        if (uuid) byUuid.set(uuid, delivered);
      }
      const ok = {
        code: 0,
        msg: 'success',
        data: {
          message_id: delivered.messageId,
          chat_id: chatId,
          msg_type: delivered.msgType,
          body: { content: b!.content },
          create_time: String(Date.parse(delivered.at)),
        },
      };
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs));
      if (!res.destroyed) answer(200, ok);
    });
  });

  // The long connection: the bridge's answers to data frames come back with the frame's message_id.
  const sockets = new Set<WebSocket>();
  const replies = new Map<string, (frame: LarkFrame) => void>();
  const wss = new WebSocketServer({ server, path: WS_PATH });
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('message', (data: Buffer) => {
      const frame = decodeFrame(Buffer.from(data));
      const header = (key: string) => frame.headers.find((h) => h.key === key)?.value;
      if (frame.method === 0 && header('type') === 'ping') {
        socket.send(encodeFrame({ ...frame, headers: [{ key: 'type', value: 'pong' }], payload: undefined }));
        return;
      }
      const id = header('message_id');
      if (frame.method === 1 && id) replies.get(id)?.(frame);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    appId,
    appSecret,
    requests,
    messages,
    tokensIssued,
    edits,
    editsOf: (messageId) => edits.filter((e) => e.messageId === messageId),
    buttons(messageId) {
      const card = byId.get(messageId)?.content as
        { elements?: { tag?: string; actions?: { value?: unknown }[] }[] } | undefined;
      return (card?.elements ?? [])
        .filter((e) => e.tag === 'action')
        .flatMap((e) => (e.actions ?? []).map((a) => a.value).filter((v) => v !== undefined));
    },
    longConnections: () => sockets.size,
    async clickOverLongConnection(c) {
      const message = byId.get(c.messageId);
      if (!message) throw new Error(`the fake Feishu has no message ${c.messageId}`);
      const socket = [...sockets][0];
      if (!socket) throw new Error('no long connection is open');
      const id = `msg_${++seq}`;
      const payload = Buffer.from(JSON.stringify(clickPayload({ appId, ...c }, message, seq)));
      const headers = [
        { key: 'type', value: 'event' },
        { key: 'message_id', value: id },
        { key: 'sum', value: '1' },
        { key: 'seq', value: '0' },
        { key: 'trace_id', value: `trace_${seq}` },
      ];
      const reply = new Promise<LarkFrame>((resolve) => replies.set(id, resolve));
      socket.send(encodeFrame({ SeqID: seq, LogID: seq, service: 1, method: 1, headers, payload }));
      const frame = await reply;
      const body = JSON.parse(frame.payload!.toString('utf8')) as { code: number; data?: string };
      const answer = body.data ? JSON.parse(Buffer.from(body.data, 'base64').toString('utf8')) : null;
      if (body.code === 200 && answer?.card?.type === 'raw') {
        message.content = answer.card.data;
        edits.push({ messageId: message.messageId, content: answer.card.data, at: Date.now() });
      }
      return { code: body.code, answer };
    },
    async verifyCallbackUrl(callbackUrl, encryptKey, verificationToken) {
      const challenge = `challenge-${++seq}`;
      return postCallback(
        callbackUrl,
        encryptKey,
        encryptKey,
        { type: 'url_verification', challenge, token: verificationToken },
        seq,
      );
    },
    async click(c) {
      const message = byId.get(c.messageId);
      if (!message) throw new Error(`the fake Feishu has no message ${c.messageId}`);
      const payload = clickPayload({ appId, ...c }, message, ++seq);
      const { status, answer } = await postCallback(
        c.callbackUrl,
        c.encryptKey,
        c.signWith ?? c.encryptKey,
        payload,
        seq,
      );
      if (status === 200 && answer?.card?.type === 'raw') {
        message.content = answer.card.data;
        edits.push({ messageId: message.messageId, content: answer.card.data, at: Date.now() });
      }
      return { status, answer };
    },
    failNextEdits(n, fault) {
      for (let i = 0; i < n; i++) editFaults.push(fault);
    },
    sendRequests: () => requests.filter((r) => r.path === SEND_PATH && r.method === 'POST'),
    tokenRequests: () => requests.filter((r) => r.path === TOKEN_PATH),
    messagesTo: (chatId) => messages.filter((m) => m.chatId === chatId),
    countByChat: () => countBy(messages, (m) => m.chatId),
    failNext(n, fault) {
      for (let i = 0; i < n; i++) faults.push(fault);
    },
    removeBotFrom: (chatId) => void botNotIn.add(chatId),
    reset() {
      requests.length = 0;
      messages.length = 0;
      tokensIssued.length = 0;
      validTokens.clear();
      byUuid.clear();
      byId.clear();
      botNotIn.clear();
      faults.length = 0;
      edits.length = 0;
      editFaults.length = 0;
    },
    stop: async () => {
      for (const socket of sockets) socket.terminate();
      wss.close();
      await stopServer(server);
    },
  };
}

/** Feishu's `card.action.trigger` callback (schema 2.0) for a click on `message`. */
function clickPayload(
  c: Omit<FeishuClick, 'callbackUrl' | 'encryptKey' | 'signWith'>,
  message: FeishuDelivered,
  seq: number,
): object {
  return {
    schema: '2.0',
    header: {
      event_id: `ev_${seq}`,
      token: c.verificationToken ?? '',
      create_time: String(Date.now() * 1000),
      event_type: 'card.action.trigger',
      tenant_key: 'tk_fake',
      app_id: c.appId ?? '',
    },
    event: {
      operator: { tenant_key: 'tk_fake', ...c.operator },
      token: `c-${seq}`,
      action: { value: c.value, tag: 'button' },
      host: 'im_message',
      context: { open_message_id: message.messageId, open_chat_id: message.chatId },
    },
  };
}

/** One callback as Feishu sends it: the encrypted payload, signed with SHA-256(timestamp + nonce + key + body). */
/* eslint-disable @typescript-eslint/no-explicit-any -- the answer is whatever the bridge's route sent back */
async function postCallback(
  url: string,
  encryptKey: string,
  signingKey: string,
  payload: unknown,
  seq: number,
): Promise<{ status: number; answer: any }> {
  /* eslint-enable @typescript-eslint/no-explicit-any */
  const body = JSON.stringify({ encrypt: encryptCallback(JSON.stringify(payload), encryptKey) });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = `n${seq}`;
  const signature = createHash('sha256')
    .update(timestamp + nonce + signingKey + body)
    .digest('hex');
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-lark-request-timestamp': timestamp,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': signature,
    },
    body,
  });
  return { status: res.status, answer: await res.json().catch(() => null) };
}

/** How Feishu encrypts a callback body: AES-256-CBC, key = SHA-256(Encrypt Key), base64(iv ‖ ciphertext). */
function encryptCallback(plain: string, encryptKey: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(encryptKey).digest(), iv);
  return Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

function validateSend(
  b: { receive_id?: unknown; msg_type?: unknown; content?: unknown; uuid?: unknown } | null,
): string | null {
  if (!b || typeof b !== 'object') return 'body must be a JSON object';
  if (typeof b.receive_id !== 'string' || b.receive_id === '') return 'receive_id is required';
  if (typeof b.msg_type !== 'string' || !MSG_TYPES.has(b.msg_type)) return 'msg_type is invalid';
  if (typeof b.content !== 'string') return 'content must be a JSON string';
  const content = parseJson(b.content);
  if (!content || typeof content !== 'object') return 'content is not valid JSON';
  if (b.uuid !== undefined && (typeof b.uuid !== 'string' || b.uuid.length > 50))
    return 'uuid must be a string of at most 50 characters';
  return null;
}
