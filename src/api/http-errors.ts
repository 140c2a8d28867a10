// Every error the API answers has one shape {"error":{"code","message"}} and one
// sentence. Bad input is always a 4xx: only a fault of the bridge itself becomes a 500, and that
// one says nothing about internals (the log has the details).
import { BridgeError } from '../errors';
import type { Logger } from '../logging';

export interface ErrorBody {
  error: { code: string; message: string };
}

export interface ErrorReply {
  status: number;
  body: ErrorBody;
}

export const errorBody = (code: string, message: string): ErrorBody => ({
  error: { code, message: oneSentence(message) },
});

/** What fastify's own request-reading errors mean, in words a caller can act on. */
const FASTIFY_ERRORS: Record<string, { status: number; code: string; message: (limit: number) => string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'payload_too_large',
    message: (limit) => `The request body is larger than the ${formatBytes(limit)} limit.`,
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    message: () => 'The request body must be sent as Content-Type: application/json.',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    message: () => 'The request body is not valid JSON.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    message: () => 'The request body is empty although Content-Type is application/json.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'bad_request',
    message: () => 'The request body does not match its Content-Length.',
  },
  FST_ERR_BAD_URL: { status: 400, code: 'bad_request', message: () => 'The request URL is malformed.' },
};

/** Translates anything thrown while answering a request into the reply to send. */
export function toErrorReply(
  error: unknown,
  context: { bodyLimit: number; logger: Logger; route: string },
): ErrorReply {
  if (error instanceof BridgeError) {
    if (error.httpStatus >= 500 && error.httpStatus !== 503)
      context.logger.error('request failed', { route: context.route, error });
    return { status: error.httpStatus, body: errorBody(error.code, error.message) };
  }
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : '';
  const known = FASTIFY_ERRORS[code];
  if (known) return { status: known.status, body: errorBody(known.code, known.message(context.bodyLimit)) };
  const statusCode = Number((error as { statusCode?: unknown })?.statusCode);
  if (code.startsWith('FST_') && statusCode >= 400 && statusCode < 500) {
    return { status: statusCode, body: errorBody('bad_request', 'The request could not be read.') };
  }
  context.logger.error('internal error while answering a request', { route: context.route, error });
  return {
    status: 500,
    body: errorBody('internal_error', 'Internal error: the bridge failed unexpectedly; its log has the details.'),
  };
}

/** Collapses whitespace so a message stays one line, and makes sure it ends like a sentence. */
export function oneSentence(message: string): string {
  const text = message.replace(/\s+/g, ' ').trim();
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function formatBytes(n: number): string {
  return n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}
