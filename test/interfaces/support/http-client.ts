// A tiny HTTP client for the API tests. Requests go over a real loopback socket (fastify.inject
// needs light-my-request, whose ESM-only `cookie` dependency Jest cannot load), and node:http
// sends exactly what a test asks for: malformed URLs, odd content types, wrong lengths.
import * as http from 'node:http';
import type { FastifyInstance } from 'fastify';

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** Objects and arrays are sent as JSON; strings as they are (text/plain unless a content type is given). */
  payload?: unknown;
}

export interface HttpResponse {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Starts the app on a free loopback port; returns its base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ host: '127.0.0.1', port: 0 });
}

export function send(baseUrl: string, request: HttpRequest): Promise<HttpResponse> {
  const headers: Record<string, string> = { ...(request.headers ?? {}) };
  let body: Buffer | undefined;
  if (request.payload !== undefined) {
    const isText = typeof request.payload === 'string';
    body = Buffer.from(isText ? (request.payload as string) : JSON.stringify(request.payload));
    headers['content-type'] ??= isText ? 'text/plain' : 'application/json';
  }
  if (body) headers['content-length'] = String(body.length);
  const target = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    // The server may answer (413, 401) and close before the whole body is written.
    req.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e),
    );
    req.end(body);
  });
}

const listening = new WeakMap<FastifyInstance, Promise<string>>();

/** Like fastify.inject, over a socket: the app is started on first use (close it as usual). */
export function request(app: FastifyInstance, req: HttpRequest): Promise<HttpResponse> {
  let base = listening.get(app);
  if (!base) {
    base = listen(app);
    listening.set(app, base);
  }
  return base.then((url) => send(url, req));
}
