// A model that takes its time: the OpenAI Responses API (`POST /v1/responses`, SSE) on 127.0.0.1,
// answering every request with one final message after a delay, so that Codex turns stay in flight
// long enough to be interrupted (fault tests kill workers mid-turn; benchmarks hold N turns open).
// The response starts at once (`response.created`), like a real model that is thinking.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PacedModelOptions {
  /** How long each response takes, per request (index counts from 0). Default 0. */
  delayMs?: number | ((index: number) => number);
  /** The final message's text (default "done"). */
  text?: string;
}

export class PacedModel {
  /** Requests received (including ones whose client went away). */
  requests = 0;
  /** Responses completed. */
  completed = 0;
  private readonly open = new Set<http.ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: http.Server,
    private readonly options: PacedModelOptions,
    /** Base URL for a model provider, e.g. http://127.0.0.1:PORT/v1 */
    readonly url: string,
  ) {}

  static async start(options: PacedModelOptions = {}): Promise<PacedModel> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const model = new PacedModel(server, options, `http://127.0.0.1:${port}/v1`);
    server.on('request', (req, res) => model.handle(req, res));
    return model;
  }

  /** Responses still streaming. */
  get inFlight(): number {
    return this.open.size;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const res of this.open) res.destroy();
    this.open.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume();
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/responses')) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      const index = this.requests++;
      const id = `resp_${index + 1}`;
      const send = (type: string, data: object) =>
        res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      send('response.created', { response: { id } });
      this.open.add(res);
      const delay =
        typeof this.options.delayMs === 'function' ? this.options.delayMs(index) : (this.options.delayMs ?? 0);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (res.destroyed) return;
        const item = {
          type: 'message',
          role: 'assistant',
          id: `${id}_1`,
          content: [{ type: 'output_text', text: this.options.text ?? 'done' }],
          phase: 'final_answer',
        };
        send('response.output_item.done', { item });
        send('response.completed', {
          response: {
            id,
            usage: {
              input_tokens: 10,
              output_tokens: 5,
              total_tokens: 15,
              input_tokens_details: null,
              output_tokens_details: null,
            },
          },
        });
        res.end();
        this.open.delete(res);
        this.completed += 1;
      }, delay);
      this.timers.add(timer);
      res.on('close', () => {
        // The client (an app-server killed with its worker, or reaped) went away mid-response.
        clearTimeout(timer);
        this.timers.delete(timer);
        this.open.delete(res);
      });
    });
  }
}
