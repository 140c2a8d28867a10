// Bearer-token check. It runs in onRequest, before the body is read, validated or a task looked
// up, so a caller without the token learns nothing (not even whether a task or route exists).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './http-errors';

/** Route config flag for routes anyone may call (only /healthz). */
export interface PublicRouteConfig {
  public?: boolean;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Compares a presented token with the configured one in constant time (equal-length digests). */
export function tokenMatches(presented: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(digest(presented), expectedDigest);
}

/** An onRequest hook enforcing `Authorization: Bearer <token>`; no token configured means no check. */
export function bearerAuth(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (expected === undefined) return;
    if ((request.routeOptions.config as PublicRouteConfig | undefined)?.public) return;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    // Always hash and compare, so a missing header costs the same as a wrong one.
    const ok = tokenMatches(match?.[1] ?? '', expected) && match !== null;
    if (ok) return;
    const message =
      header === undefined
        ? 'This route needs the header Authorization: Bearer <CODEX_BRIDGE_API_TOKEN>.'
        : 'The bearer token in the Authorization header is not the one the bridge was started with.';
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="codex-bridge"')
      .send(errorBody('unauthorized', message));
  };
}
