// Small pieces the fake chat servers share: reading a request, checking an HMAC signature the way
// the real gateways do, counting what they delivered, and stopping a server with its open connections.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type * as http from 'node:http';

export function header(req: http.IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? null) : null;
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** hex HMAC-SHA256(secret, "<timestamp>.<raw body>") in `signatureHeader`, timestamp within ±windowSeconds. */
export function validTimestampedSignature(
  req: http.IncomingMessage,
  rawBody: string,
  secret: string,
  headers: { signature: string; timestamp: string },
  windowSeconds = 300,
): boolean {
  const signature = header(req, headers.signature);
  const timestamp = header(req, headers.timestamp);
  if (!signature || !timestamp || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(Math.floor(Date.now() / 1000) - Number(timestamp)) > windowSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
  return signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}

export function stopServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** How many items fall under each key (deliveries per chat, per path, ...). */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}
