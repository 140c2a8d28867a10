// Which Feishu failures are retried: the one table. Feishu answers most business errors as HTTP 400
// with a numeric `code`; the code, not the HTTP status, says whether trying again can help.
import { FeishuHttpError } from './feishu-http';

export type FeishuAction =
  /** Transient: the activity is retried (with the announced reset when there is one). */
  | 'retry'
  /** The tenant access token went stale: drop the cached token and send once more, in-process. */
  | 'refresh_token'
  /** Permanent until a person fixes something: not retried, the sentence says what to fix. */
  | 'reject';

interface Context {
  chatId: string;
  code: number;
  msg: string;
}

interface Rule {
  action: FeishuAction;
  /** One sentence for the task's notification_error. */
  say: (c: Context) => string;
}

export const FEISHU_ERRORS: Readonly<Record<number, Rule>> = {
  99991400: {
    action: 'retry',
    say: () => 'Feishu rate limit reached (code 99991400); will retry after the announced reset.',
  },
  230020: {
    action: 'retry',
    say: (c) => `Feishu is rate-limiting messages to chat ${c.chatId} (code 230020); will retry.`,
  },
  99991663: {
    action: 'refresh_token',
    say: () => 'Feishu refused the tenant access token even after a refresh (code 99991663); will retry.',
  },
  230001: {
    action: 'reject',
    say: (c) =>
      `Feishu rejected the message parameters for chat ${c.chatId}: check that the chat id is right (code 230001: ${c.msg}).`,
  },
  230002: {
    action: 'reject',
    say: (c) => `The Feishu bot is not in chat ${c.chatId}: add the bot to the chat (code 230002).`,
  },
  230006: {
    action: 'reject',
    say: () =>
      'The Feishu app has no bot capability: enable the bot feature for the app in the Feishu developer console (code 230006).',
  },
  230027: {
    action: 'reject',
    say: (c) =>
      `The Feishu app lacks a permission needed to message chat ${c.chatId}: grant it the im:message scopes and publish the app version (code 230027).`,
  },
  230099: {
    action: 'reject',
    say: (c) =>
      `Feishu could not create the message card for chat ${c.chatId}: report this to the codex-bridge maintainers (code 230099: ${c.msg}).`,
  },
  10003: {
    action: 'reject',
    say: () => 'Feishu rejected the app credentials: check FEISHU_APP_ID and FEISHU_APP_SECRET (code 10003).',
  },
  10014: {
    action: 'reject',
    say: () => "Feishu rejected FEISHU_APP_SECRET: set the app's current secret (code 10014).",
  },
};

export interface FeishuVerdict {
  action: FeishuAction;
  message: string;
  retryAfterMs: number | null;
}

/**
 * Classifies what a send returned or threw: a FeishuHttpError (no answer, or a non-2xx answer), a
 * 2xx answer whose `code` is not 0, or the SDK's own error when the token endpoint answered 2xx
 * without a token.
 */
export function classifyFeishuFailure(failure: unknown, chatId: string): FeishuVerdict {
  if (failure instanceof FeishuHttpError) {
    if (failure.status === null)
      return {
        action: 'retry',
        message: `The request to Feishu failed (${failure.message}); will retry.`,
        retryAfterMs: null,
      };
    const body = failure.data as { code?: unknown; msg?: unknown } | null;
    const code = typeof body?.code === 'number' ? body.code : null;
    const msg = typeof body?.msg === 'string' ? body.msg : '';
    const retryAfterMs = rateLimitResetMs(failure.headers);
    const known = code !== null ? FEISHU_ERRORS[code] : undefined;
    if (known) return { action: known.action, message: known.say({ chatId, code: code!, msg }), retryAfterMs };
    if (failure.status === 429)
      return {
        action: 'retry',
        message: 'Feishu rate limit reached (HTTP 429); will retry after the announced reset.',
        retryAfterMs,
      };
    if (failure.status >= 500)
      return { action: 'retry', message: `Feishu answered HTTP ${failure.status}; will retry.`, retryAfterMs };
    return {
      action: 'reject',
      message: unknownRejection(failure.url, failure.status, code, msg, chatId),
      retryAfterMs: null,
    };
  }
  const business = failure as { code?: unknown; msg?: unknown } | null;
  if (business && typeof business === 'object' && typeof business.code === 'number') {
    const msg = typeof business.msg === 'string' ? business.msg : '';
    const known = FEISHU_ERRORS[business.code];
    if (known)
      return { action: known.action, message: known.say({ chatId, code: business.code, msg }), retryAfterMs: null };
    return { action: 'reject', message: unknownRejection('', 200, business.code, msg, chatId), retryAfterMs: null };
  }
  // The SDK's token manager throws "failed to get tenant_access_token, code: N, msg: …" when the
  // token endpoint answers 2xx without a token.
  const text = failure instanceof Error ? failure.message : String(failure);
  const tokenFailure = /failed to get tenant_access_token, code: (\w+), msg: (.*)$/.exec(text);
  if (tokenFailure) {
    const code = Number(tokenFailure[1]);
    const known = Number.isInteger(code) ? FEISHU_ERRORS[code] : undefined;
    if (known)
      return {
        action: known.action,
        message: known.say({ chatId, code, msg: tokenFailure[2] ?? '' }),
        retryAfterMs: null,
      };
    return {
      action: 'reject',
      message: unknownRejection('/auth/v3/', 200, Number.isInteger(code) ? code : null, tokenFailure[2] ?? '', chatId),
      retryAfterMs: null,
    };
  }
  return {
    action: 'retry',
    message: `Sending to Feishu failed unexpectedly (${text}); will retry.`,
    retryAfterMs: null,
  };
}

/** `x-ogw-ratelimit-reset`: seconds until Feishu's rate-limit window resets. */
function rateLimitResetMs(headers: Headers | null): number | null {
  const raw = headers?.get('x-ogw-ratelimit-reset');
  if (!raw) return null;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : null;
}

function unknownRejection(url: string, status: number, code: number | null, msg: string, chatId: string): string {
  const what = `HTTP ${status}${code !== null ? `, code ${code}` : ''}${msg ? `: ${msg}` : ''}`;
  if (url.includes('/auth/v3/'))
    return `Feishu refused the app's access token request: check FEISHU_APP_ID and FEISHU_APP_SECRET (${what}).`;
  return `Feishu rejected the message for chat ${chatId}: see Feishu's error code reference (${what}).`;
}
