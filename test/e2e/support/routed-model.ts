// One scripted model (test/support/scripted-model.ts) shared by every task of a test file: each
// task's prompt carries a tag (`[e2e:<name>]`), and the requests whose input shows that tag are
// answered from that route's own script. Retried attempts and follow-up turns of a task show the
// same tag, so a route's script simply continues (request 1 stalls, request 2 answers…).
import {
  ScriptedModel,
  requestInputText,
  requestToolOutputs,
  type RecordedRequest,
  type ScriptStep,
} from '../../support/scripted-model';

export interface Route {
  tag: string;
  /** The requests this route answered, in order. */
  requests: RecordedRequest[];
  /** All text the model was shown in this route's request `i`: messages and tool outputs. */
  inputText(i: number): string;
  /** Tool outputs reported back in this route's request `i`, by call id. */
  toolOutputs(i: number): Record<string, string>;
  /** Resolves once this route has seen `count` requests. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
}

export class RoutedModel {
  private readonly routes = new Map<string, { route: Route; steps: ScriptStep[] }>();

  private constructor(readonly model: ScriptedModel) {}

  static async start(): Promise<RoutedModel> {
    const routing: { to?: RoutedModel } = {};
    const model = await ScriptedModel.start((request) => routing.to!.step(request));
    const routed = (routing.to = new RoutedModel(model));
    return routed;
  }

  get url(): string {
    return this.model.url;
  }

  /** Registers a route; put `route.tag` in the task's prompt. */
  route(name: string, steps: ScriptStep[]): Route {
    const tag = `[e2e:${name}]`;
    if (this.routes.has(tag)) throw new Error(`route ${name} exists already`);
    const requests: RecordedRequest[] = [];
    const route: Route = {
      tag,
      requests,
      inputText: (i) => requestInputText(requests[i]),
      toolOutputs: (i) => requestToolOutputs(requests[i]),
      waitForRequests: async (count, timeoutMs = 60_000) => {
        const deadline = Date.now() + timeoutMs;
        while (requests.length < count) {
          if (Date.now() > deadline)
            throw new Error(`route ${name} got ${requests.length} of ${count} model requests within ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
    };
    this.routes.set(tag, { route, steps });
    return route;
  }

  close(): Promise<void> {
    return this.model.close();
  }

  private step(request: RecordedRequest): ScriptStep {
    const text = requestInputText(request);
    const matches = [...this.routes.entries()].filter(([tag]) => text.includes(tag));
    if (matches.length !== 1) {
      return {
        httpError: 400,
        message: `the routed model found ${matches.length} route tags in the request (known: ${[...this.routes.keys()].join(', ')})`,
      };
    }
    const { route, steps } = matches[0]![1];
    const index = route.requests.length;
    route.requests.push(request);
    return (
      steps[index] ?? {
        httpError: 400,
        message: `route ${route.tag} has no step #${index + 1} (it has ${steps.length})`,
      }
    );
  }
}
