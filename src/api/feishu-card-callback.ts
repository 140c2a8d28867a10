// Button clicks on Feishu cards (`card.action.trigger` callbacks, schema 2.0), received at an HTTP
// callback URL. The request is checked the way Feishu signs it — X-Lark-Signature = hex
// SHA-256(timestamp + nonce + encrypt key + body), as the Lark SDK checks it — and decrypted with
// the SDK's AESCipher when Feishu encrypts it. A click becomes the same `approve` call the CLI makes
// (same update, same validators), so a second click on a stale card is refused; the answer
// replaces the card with who answered what, or with why the click changed nothing.
import { createHash, timingSafeEqual } from 'node:crypto';
import { AESCipher } from '@larksuiteoapi/node-sdk';
import type { FastifyInstance } from 'fastify';
import type { TaskServiceApi } from '../client/task-service-types';
import { APPROVAL_DECISIONS, type ApprovalDecision } from '../contract/task';
import { BridgeError } from '../errors';
import { answeredCard, type ApprovalButtonValue, type OptionButtonValue } from '../../activities/notify/feishu-message';
import { errorBody } from './http-errors';

export interface FeishuCallbackOptions {
  /** FEISHU_ENCRYPT_KEY: signs every callback and encrypts its body. */
  encryptKey: string;
  /** FEISHU_VERIFICATION_TOKEN: when set, the callback's header.token must equal it. */
  verificationToken?: string;
}

/** What Feishu reads from the answer: a toast for the person who clicked, and the card's new content. */
export interface CardActionAnswer {
  toast: { type: 'success' | 'error' | 'info'; content: string };
  card: { type: 'raw'; data: Record<string, unknown> };
}

interface CardActionEvent {
  operator?: { open_id?: string; user_id?: string };
  action?: { value?: unknown };
}

/** The click's answer: the approval or answer made, or the reason it could not be. */
export async function answerCardAction(service: TaskServiceApi, event: CardActionEvent): Promise<CardActionAnswer> {
  const value = event.action?.value as Partial<ApprovalButtonValue & OptionButtonValue> | undefined;
  const who = event.operator?.user_id ?? event.operator?.open_id ?? 'someone';
  if (!value || typeof value.task_id !== 'string' || typeof value.request_id !== 'string')
    return refused('This button does not answer a codex-bridge request.');
  const { task_id, request_id } = value;
  let said: string;
  let send: () => Promise<unknown>;
  if (typeof value.question_id === 'string' && typeof value.answer === 'string') {
    const { question_id, answer } = value;
    said = `"${answer}"`;
    send = () => service.answer(task_id, request_id, { [question_id]: [answer] });
  } else if (APPROVAL_DECISIONS.includes(value.decision as ApprovalDecision)) {
    const decision = value.decision as ApprovalDecision;
    said = decision.replace(/_/g, ' ');
    send = () => service.approve(task_id, request_id, decision);
  } else {
    return refused('This button does not answer a codex-bridge request.');
  }
  try {
    await send();
  } catch (err) {
    if (err instanceof BridgeError)
      return refused(`Request ${request_id} of task ${task_id} can no longer be answered: ${err.message}`);
    throw err;
  }
  return {
    toast: { type: 'success', content: `Answered: ${said}` },
    card: {
      type: 'raw',
      data: answeredCard(
        `✅ Codex task ${task_id}: request answered`,
        [`${who} answered ${said} to request ${request_id}.`],
        'green',
      ),
    },
  };
}

function refused(reason: string): CardActionAnswer {
  return {
    toast: { type: 'error', content: reason.slice(0, 200) },
    card: { type: 'raw', data: answeredCard('⚠️ Nothing changed', [reason], 'grey') },
  };
}

/** POST /v1/feishu/card-callback: public (Feishu cannot send a bearer token), checked by signature instead. */
export function registerFeishuCallbackRoute(
  app: FastifyInstance,
  service: TaskServiceApi,
  options: FeishuCallbackOptions,
): void {
  app.post('/v1/feishu/card-callback', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const body = req.body as Record<string, unknown> | null;
    const raw = JSON.stringify(body); // what the sender signed: Feishu sends compact JSON, and the SDK checks the same way
    const header = (name: string) => String(req.headers[name] ?? '');
    const expected = createHash('sha256')
      .update(header('x-lark-request-timestamp') + header('x-lark-request-nonce') + options.encryptKey + raw)
      .digest();
    const presented = Buffer.from(header('x-lark-signature'), 'hex');
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      return reply
        .code(401)
        .send(errorBody('unauthorized', 'The Feishu callback signature does not match FEISHU_ENCRYPT_KEY.'));
    }
    let payload: Record<string, unknown>;
    try {
      payload =
        typeof body?.encrypt === 'string'
          ? (JSON.parse(new AESCipher(options.encryptKey).decrypt(body.encrypt)) as Record<string, unknown>)
          : (body ?? {});
    } catch {
      return reply
        .code(400)
        .send(errorBody('invalid_request', 'The Feishu callback could not be decrypted with FEISHU_ENCRYPT_KEY.'));
    }
    if (payload.type === 'url_verification') return { challenge: payload.challenge };
    const head = payload.header as { event_type?: string; token?: string } | undefined;
    if (options.verificationToken && head?.token !== options.verificationToken) {
      return reply
        .code(401)
        .send(
          errorBody(
            'unauthorized',
            'The Feishu callback carries another verification token than FEISHU_VERIFICATION_TOKEN.',
          ),
        );
    }
    if (head?.event_type !== 'card.action.trigger') return {};
    return answerCardAction(service, (payload.event ?? {}) as CardActionEvent);
  });
}
