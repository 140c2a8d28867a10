// A scripted model: the OpenAI Responses API (`POST /v1/responses`, SSE) on 127.0.0.1, answering
// each request with the next step of a script that tests write as data. It records every request
// body, so a test can assert what the model was shown (a command's output, an earlier turn's text).
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One output item of a scripted response. */
export type ScriptedItem =
  /** An assistant message; `phase: 'final_answer'` marks the turn's final answer. */
  | { type: 'message'; text: string; phase?: 'commentary' | 'final_answer' }
  /** A shell call; the next request carries its `function_call_output`. */
  | { type: 'exec_command'; cmd: string; callId?: string }
  /** An apply_patch call (`*** Begin Patch` … `*** End Patch`); needs the mock model catalog. */
  | { type: 'apply_patch'; patch: string; callId?: string }
  /** An update_plan call: Codex then sends `turn/plan/updated` with this plan. */
  | {
      type: 'update_plan';
      plan: { step: string; status: 'pending' | 'in_progress' | 'completed' }[];
      callId?: string;
    };

/** What the model does for one request. */
export type ScriptStep =
  /** `delayMs`: the items follow `response.created` after this long (a model that thinks). */
  | { items: ScriptedItem[]; usage?: { input_tokens: number; output_tokens: number }; delayMs?: number }
  /** An HTTP error status with an OpenAI-style error body. */
  | { httpError: number; message?: string }
  /**
   * What ChatGPT's backend answers when the account's Codex usage limit is reached: HTTP 429 with
   * `{"error":{"type":"usage_limit_reached","resets_at":<unix seconds>}}`, which Codex reports as
   * a failed turn with codexErrorInfo `usageLimitExceeded` (and does not retry).
   */
  | { usageLimit: { resetsAt: Date; planType?: string } }
  /** A stream that ends with `response.failed`. */
  | { failed: { code?: string; message: string } }
  /** Headers and `response.created`, then nothing until the model server closes. */
  | { stall: true };

export type Script = ScriptStep[] | ((request: RecordedRequest, index: number) => ScriptStep);

export interface RecordedRequest {
  path: string;
  /** The parsed JSON body (model, instructions, input, tools…). */
  body: { model?: string; input?: ResponseInputItem[]; [key: string]: unknown };
}

export interface ResponseInputItem {
  type?: string;
  role?: string;
  content?: { type: string; text?: string }[] | string;
  output?: unknown;
  call_id?: string;
  [key: string]: unknown;
}

export class ScriptedModel {
  readonly requests: RecordedRequest[] = [];
  private readonly stalled = new Set<http.ServerResponse>();
  private readonly waiters: (() => void)[] = [];

  private constructor(
    private readonly server: http.Server,
    private readonly script: Script,
    /** Base URL for a model provider, e.g. http://127.0.0.1:PORT/v1 */
    readonly url: string,
  ) {}

  static async start(script: Script): Promise<ScriptedModel> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const model = new ScriptedModel(server, script, `http://127.0.0.1:${port}/v1`);
    server.on('request', (req, res) => model.handle(req, res));
    return model;
  }

  /** Resolves once `count` requests have arrived. */
  async waitForRequests(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      if (Date.now() > deadline)
        throw new Error(`the scripted model got ${this.requests.length} of ${count} requests within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** All text the model was shown in request `index`: messages and tool outputs. */
  inputText(index: number): string {
    return requestInputText(this.requests[index]);
  }

  /** The outputs of the tool calls reported back in request `index`, by call id. */
  toolOutputs(index: number): Record<string, string> {
    return requestToolOutputs(this.requests[index]);
  }

  /** Ends stalled streams and stops listening. */
  async close(): Promise<void> {
    for (const res of this.stalled) res.destroy();
    this.stalled.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/responses')) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      let body: RecordedRequest['body'];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecordedRequest['body'];
      } catch {
        res.writeHead(400).end();
        return;
      }
      const index = this.requests.length;
      const request = { path: req.url, body };
      this.requests.push(request);
      for (const wake of this.waiters.splice(0)) wake();
      this.respond(res, this.stepFor(request, index), index);
    });
  }

  private stepFor(request: RecordedRequest, index: number): ScriptStep {
    if (typeof this.script === 'function') return this.script(request, index);
    // Running off the end of the script is a test bug: make it loud, and fail fast.
    return (
      this.script[index] ?? {
        httpError: 400,
        message: `the scripted model has no step #${index + 1} (script has ${this.script.length})`,
      }
    );
  }

  private respond(res: http.ServerResponse, step: ScriptStep, index: number): void {
    const responseId = `resp_${index + 1}`;
    if ('usageLimit' in step) {
      const { resetsAt, planType } = step.usageLimit;
      res.writeHead(429, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: {
            type: 'usage_limit_reached',
            message: 'The usage limit has been reached',
            plan_type: planType ?? 'plus',
            resets_at: Math.floor(resetsAt.getTime() / 1000),
          },
        }),
      );
      return;
    }
    if ('httpError' in step) {
      res.writeHead(step.httpError, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: {
            message: step.message ?? `scripted HTTP ${step.httpError}`,
            type: 'invalid_request_error',
            code: null,
          },
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (type: string, data: object) =>
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    send('response.created', { response: { id: responseId } });
    if ('stall' in step) {
      this.stalled.add(res);
      res.on('close', () => this.stalled.delete(res));
      return;
    }
    if ('failed' in step) {
      send('response.failed', {
        response: { id: responseId, error: { code: step.failed.code ?? 'server_error', message: step.failed.message } },
      });
      res.end();
      return;
    }
    const finish = () => {
      this.stalled.delete(res);
      if (res.destroyed) return;
      step.items.forEach((item, i) =>
        send('response.output_item.done', { item: outputItem(item, `${responseId}_${i + 1}`) }),
      );
      const usage = step.usage ?? { input_tokens: 10, output_tokens: 5 };
      send('response.completed', {
        response: {
          id: responseId,
          usage: {
            ...usage,
            total_tokens: usage.input_tokens + usage.output_tokens,
            input_tokens_details: null,
            output_tokens_details: null,
          },
        },
      });
      res.end();
    };
    if (!step.delayMs) return finish();
    // Held like a stalled stream meanwhile, so that close() ends it.
    this.stalled.add(res);
    setTimeout(finish, step.delayMs).unref();
  }
}

function outputItem(item: ScriptedItem, id: string): object {
  switch (item.type) {
    case 'message':
      return {
        type: 'message',
        role: 'assistant',
        id,
        content: [{ type: 'output_text', text: item.text }],
        ...(item.phase ? { phase: item.phase } : {}),
      };
    case 'exec_command':
      return functionCall(id, item.callId, 'exec_command', { cmd: item.cmd, login: false });
    case 'apply_patch':
      return {
        type: 'custom_tool_call',
        id,
        call_id: item.callId ?? `call_${id}`,
        name: 'apply_patch',
        input: item.patch,
      };
    case 'update_plan':
      return functionCall(id, item.callId, 'update_plan', { plan: item.plan });
  }
}

function functionCall(id: string, callId: string | undefined, name: string, args: object): object {
  return { type: 'function_call', id, call_id: callId ?? `call_${id}`, name, arguments: JSON.stringify(args) };
}

/** All text a request showed the model: messages and tool outputs. */
export function requestInputText(request: RecordedRequest | undefined): string {
  return (request?.body.input ?? []).map(itemText).join('\n');
}

/** The outputs of the tool calls a request reported back, by call id. */
export function requestToolOutputs(request: RecordedRequest | undefined): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const item of request?.body.input ?? []) {
    if ((item.type === 'function_call_output' || item.type === 'custom_tool_call_output') && item.call_id)
      outputs[item.call_id] = itemText(item);
  }
  return outputs;
}

function itemText(item: ResponseInputItem): string {
  const parts: string[] = [];
  if (typeof item.content === 'string') parts.push(item.content);
  else if (Array.isArray(item.content))
    for (const c of item.content) if (typeof c.text === 'string') parts.push(c.text);
  if (typeof item.output === 'string') parts.push(item.output);
  else if (Array.isArray(item.output))
    for (const o of item.output as { text?: unknown }[]) if (typeof o.text === 'string') parts.push(o.text);
  return parts.join('\n');
}
