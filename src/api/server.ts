// The HTTP API for Hermes and scripts: fastify with zod schemas (validation and /openapi.json from
// one definition), bearer auth first, every error in one shape.
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifySchemaCompiler } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { TaskServiceApi } from '../client/task-service-types';
import { ConfigError, type Config } from '../config';
import { ValidationError } from '../errors';
import { silentLogger, type Logger } from '../logging';
import type { BridgeMetrics } from '../metrics';
import { bearerAuth } from './auth';
import { httpUrl, isLoopbackHost, parseHostPort } from './bind-address';
import { errorBody, toErrorReply } from './http-errors';
import { registerFeishuCallbackRoute, type FeishuCallbackOptions } from './feishu-card-callback';
import { startFeishuCardConnection } from './feishu-card-connection';
import { registerRoutes, type HealthCheck } from './routes';
import { TASK_ID_PATTERN } from '../contract/task';
import { describeIssues, parseRequest, type DescribeOptions } from './schemas';

/** Largest request body accepted; a 100 000-character prompt fits with room to spare. */
export const BODY_LIMIT = 256 * 1024;

export interface ApiServerOptions {
  service: TaskServiceApi;
  /** Required bearer token; undefined disables auth (allowed on loopback only, see startApiServer). */
  token?: string;
  /** Readiness for /healthz (Temporal and store reachable); without it /healthz only says the process is up. */
  health?: HealthCheck;
  /** How long /healthz waits for `health` before answering 503; default 3000 ms. */
  healthTimeoutMs?: number;
  metrics?: BridgeMetrics;
  logger?: Logger;
  /** Receive Feishu card button clicks at POST /v1/feishu/card-callback (needs FEISHU_ENCRYPT_KEY). */
  feishuCallback?: FeishuCallbackOptions;
}

const SUBJECTS: Record<string, DescribeOptions> = {
  body: { subject: 'the request body' },
  querystring: { subject: 'the query string', query: true },
  params: { subject: 'the URL' },
  headers: { subject: 'the request headers' },
};

/** Validation with our sentences: the first issue, naming the field, as a ValidationError (400). */
const validatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    const result = parseRequest(schema, data);
    if (result.success) return { value: result.data };
    return { error: new ValidationError(describeIssues(result.error, SUBJECTS[httpPart ?? 'body'] ?? SUBJECTS.body!)) };
  };

export function buildApiServer(options: ApiServerOptions): FastifyInstance {
  const logger = options.logger ?? silentLogger;
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // Longer than any valid task id, so an over-long id gets a 400 naming it rather than a 404.
    routerOptions: { maxParamLength: 512 },
    // The default JSON parser would refuse "__proto__" keys with a 400 too; keep that explicit.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // Malformed URLs are rejected before routing; answer them in our shape too.
    frameworkErrors: (error, _req, reply) => {
      const { status, body } = toErrorReply(error, { bodyLimit: BODY_LIMIT, logger, route: 'unmatched' });
      void (reply as FastifyReply).code(status).send(body);
    },
  });

  app.setValidatorCompiler(validatorCompiler);
  // Responses are built from our own types; their schemas exist for /openapi.json only.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  // JSON only. An empty body counts as no body, so `POST …/cancel` with a JSON content type and
  // nothing else is not an error; a route that needs a body then says which one.
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (typeof body === 'string' && body.trim() === '') return done(null, undefined);
    void parseJson(req, body as string, done);
  });

  app.addHook('onRequest', bearerAuth(options.token));
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    options.metrics?.httpRequestsTotal.inc({ method: req.method, route, status: String(reply.statusCode) });
    if (route === '/healthz' && reply.statusCode === 200) return;
    const taskId = (req.params as { task_id?: unknown } | undefined)?.task_id;
    logger.info('http request', {
      method: req.method,
      route,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
      ...(typeof taskId === 'string' && TASK_ID_PATTERN.test(taskId) ? { task_id: taskId } : {}),
    });
  });

  app.setErrorHandler((error, req, reply) => {
    const { status, body } = toErrorReply(error, {
      bodyLimit: BODY_LIMIT,
      logger,
      route: req.routeOptions.url ?? 'unmatched',
    });
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!.slice(0, 200);
    return reply
      .code(404)
      .send(errorBody('not_found', `There is no route ${req.method} ${path}; GET /openapi.json lists the routes.`));
  });

  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'codex-bridge',
        version: '1',
        description:
          'Runs OpenAI Codex tasks as durable Temporal workflows and notifies the conversation they came from.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  // Inside a plugin so that swagger's onRoute hook, registered just above, sees every route.
  void app.register(async (instance) =>
    registerRoutes(instance, {
      service: options.service,
      health: options.health,
      healthTimeoutMs: options.healthTimeoutMs,
    }),
  );
  const feishuCallback = options.feishuCallback;
  if (feishuCallback)
    void app.register(async (instance) => registerFeishuCallbackRoute(instance, options.service, feishuCallback));
  return app;
}

export interface RunningApiServer {
  url: string;
  close(): Promise<void>;
}

/** Listens on config.api.addr (port 0 picks a free one). Refuses a non-loopback address without a token. */
export async function startApiServer(config: Config, deps: Omit<ApiServerOptions, 'token'>): Promise<RunningApiServer> {
  const { host, port } = parseHostPort(config.api.addr);
  if (!isLoopbackHost(host) && !config.api.token) {
    throw new ConfigError(
      `CODEX_BRIDGE_API_TOKEN is missing: the API would listen on ${config.api.addr}, which other machines can reach, so set a token or bind CODEX_BRIDGE_API_ADDR to 127.0.0.1.`,
    );
  }
  const { encryptKey, verificationToken } = config.notifiers.feishu;
  const feishuCallback = encryptKey ? { encryptKey, verificationToken } : undefined;
  const app = buildApiServer({ feishuCallback, ...deps, token: config.api.token });
  await app.listen({ host, port });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const { appId, appSecret, baseUrl, longConnection } = config.notifiers.feishu;
  const clicks =
    longConnection && appId && appSecret
      ? startFeishuCardConnection({ appId, appSecret, baseUrl, service: deps.service })
      : undefined;
  return {
    url: httpUrl(host, boundPort),
    close: async () => {
      clicks?.close();
      await app.close();
    },
  };
}
