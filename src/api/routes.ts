// The API's routes. Each handler is a thin call into TaskServiceApi: validation happened
// before (schemas.ts), errors are translated after (http-errors.ts).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { TaskServiceApi } from '../client/task-service-types';
import {
  answersBodySchema,
  approvalBodySchema,
  cancelAcceptedSchema,
  errorBodySchema,
  eventsQuerySchema,
  healthSchema,
  listQuerySchema,
  notifyCompletedBodySchema,
  replyBodySchema,
  requestParamsSchema,
  startTaskBodySchema,
  taskDocumentSchema,
  taskListSchema,
  taskParamsSchema,
  watcherReportSchema,
  createScheduleBodySchema,
  pauseScheduleBodySchema,
  scheduleDeletedSchema,
  scheduleDocumentSchema,
  scheduleListSchema,
  scheduleParamsSchema,
} from './schemas';
import { errorBody } from './http-errors';

export interface HealthReport {
  ok: boolean;
  /** Shown to unauthenticated callers: one sentence, no addresses or credentials. */
  message?: string;
}

export type HealthCheck = () => Promise<HealthReport>;

const HEALTH_TIMEOUT_MS = 3000;

const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, errorBodySchema]));

export interface RouteDeps {
  service: TaskServiceApi;
  health?: HealthCheck;
  /** How long /healthz waits for `health`; default 3000 ms. */
  healthTimeoutMs?: number;
}

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { service, health } = deps;
  const healthTimeoutMs = deps.healthTimeoutMs ?? HEALTH_TIMEOUT_MS;
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/v1/tasks', {
    schema: {
      summary: 'Start a task',
      tags: ['tasks'],
      body: startTaskBodySchema,
      response: { 201: taskDocumentSchema, ...errors(400, 401, 409, 413, 503) },
    },
    handler: async (req, reply) => reply.code(201).send(await service.start(req.body)),
  });

  r.get('/v1/tasks', {
    schema: {
      summary: 'List tasks, newest first',
      tags: ['tasks'],
      querystring: listQuerySchema,
      response: { 200: taskListSchema, ...errors(400, 401, 503) },
    },
    handler: async (req) => service.list(req.query),
  });

  r.get('/v1/tasks/:task_id', {
    schema: {
      summary: 'One task document',
      tags: ['tasks'],
      params: taskParamsSchema,
      response: { 200: taskDocumentSchema, ...errors(400, 401, 404, 503) },
    },
    handler: async (req) => service.status(req.params.task_id),
  });

  r.post('/v1/tasks/:task_id/cancel', {
    schema: {
      summary: 'Cancel a task (the cancellation is notified)',
      tags: ['tasks'],
      params: taskParamsSchema,
      response: { 202: cancelAcceptedSchema, ...errors(400, 401, 404, 409, 503) },
    },
    handler: async (req, reply) => {
      await service.cancel(req.params.task_id);
      return reply.code(202).send({ task_id: req.params.task_id, status: 'cancelling' as const });
    },
  });

  r.post('/v1/tasks/:task_id/approvals/:request_id', {
    schema: {
      summary: 'Answer a pending approval',
      tags: ['requests'],
      params: requestParamsSchema,
      body: approvalBodySchema,
      response: { 200: taskDocumentSchema, ...errors(400, 401, 404, 409, 503) },
    },
    handler: async (req) => service.approve(req.params.task_id, req.params.request_id, req.body.decision),
  });

  r.post('/v1/tasks/:task_id/answers/:request_id', {
    schema: {
      summary: 'Answer a pending requestUserInput',
      tags: ['requests'],
      params: requestParamsSchema,
      body: answersBodySchema,
      response: { 200: taskDocumentSchema, ...errors(400, 401, 404, 409, 503) },
    },
    handler: async (req) => service.answer(req.params.task_id, req.params.request_id, req.body.answers),
  });

  r.post('/v1/tasks/:task_id/replies', {
    schema: {
      summary: 'Follow-up in the same Codex thread: into the running turn, or as the next turn',
      tags: ['tasks'],
      params: taskParamsSchema,
      body: replyBodySchema,
      response: { 202: taskDocumentSchema, ...errors(400, 401, 404, 409, 503) },
    },
    handler: async (req, reply) =>
      reply.code(202).send(await service.reply(req.params.task_id, req.body.prompt, req.body.reply_id)),
  });

  r.get('/v1/tasks/:task_id/events', {
    schema: {
      summary: "The current turn's progress events as server-sent events (event: progress, then event: end)",
      tags: ['tasks'],
      params: taskParamsSchema,
      querystring: eventsQuerySchema,
      response: {
        200: z.string().describe('text/event-stream: one `progress` event per TaskEvent (JSON data), then `end`.'),
        ...errors(400, 401, 404, 503),
      },
    },
    handler: async (req, reply) => {
      await service.status(req.params.task_id); // an unknown task is a 404 before the stream starts
      const stop = new AbortController();
      req.raw.on('close', () => stop.abort());
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      try {
        for await (const event of service.events(req.params.task_id, {
          follow: req.query.follow === 'true',
          signal: stop.signal,
        })) {
          res.write(`id: ${event.turn}.${event.seq}\nevent: progress\ndata: ${JSON.stringify(event)}\n\n`);
        }
        res.write('event: end\ndata: {}\n\n');
      } catch (err) {
        res.write(`event: error\ndata: ${JSON.stringify(errorBody('unavailable', (err as Error).message))}\n\n`);
      }
      res.end();
    },
  });

  r.post('/v1/notify-completed', {
    schema: {
      summary: 'The one-shot repair watcher: notify terminal tasks still pending',
      tags: ['notifications'],
      body: notifyCompletedBodySchema,
      response: { 200: watcherReportSchema, ...errors(400, 401, 503) },
    },
    handler: async (req) => service.notifyCompleted({ dryRun: req.body?.dry_run, retryFailed: req.body?.retry_failed }),
  });

  r.post('/v1/schedules', {
    schema: {
      summary: 'Create a schedule: a Temporal Schedule whose every run starts one task',
      tags: ['schedules'],
      body: createScheduleBodySchema,
      response: { 201: scheduleDocumentSchema, ...errors(400, 401, 409, 413, 503) },
    },
    handler: async (req, reply) => reply.code(201).send(await service.createSchedule(req.body)),
  });

  r.get('/v1/schedules', {
    schema: {
      summary: 'List schedules',
      tags: ['schedules'],
      response: { 200: scheduleListSchema, ...errors(401, 503) },
    },
    handler: async () => ({ schedules: await service.listSchedules() }),
  });

  r.get('/v1/schedules/:schedule_id', {
    schema: {
      summary: 'One schedule, with its next and recent runs',
      tags: ['schedules'],
      params: scheduleParamsSchema,
      response: { 200: scheduleDocumentSchema, ...errors(400, 401, 404, 503) },
    },
    handler: async (req) => service.describeSchedule(req.params.schedule_id),
  });

  for (const [verb, paused] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    r.post(`/v1/schedules/:schedule_id/${verb}`, {
      schema: {
        summary: paused ? 'Pause a schedule (no runs until unpaused)' : 'Unpause a schedule',
        tags: ['schedules'],
        params: scheduleParamsSchema,
        body: pauseScheduleBodySchema,
        response: { 200: scheduleDocumentSchema, ...errors(400, 401, 404, 503) },
      },
      handler: async (req) => service.pauseSchedule(req.params.schedule_id, paused, req.body?.note),
    });
  }

  r.delete('/v1/schedules/:schedule_id', {
    schema: {
      summary: 'Delete a schedule (tasks it already started run to their end)',
      tags: ['schedules'],
      params: scheduleParamsSchema,
      response: { 200: scheduleDeletedSchema, ...errors(400, 401, 404, 503) },
    },
    handler: async (req) => {
      await service.deleteSchedule(req.params.schedule_id);
      return { schedule_id: req.params.schedule_id, deleted: true as const };
    },
  });

  r.get('/healthz', {
    config: { public: true },
    schema: {
      summary: 'Liveness and readiness (no authentication)',
      tags: ['health'],
      security: [],
      response: { 200: healthSchema, 503: healthSchema.and(errorBodySchema) },
    },
    handler: async (_req, reply) => {
      const report = health ? await withTimeout(health(), healthTimeoutMs) : { ok: true };
      if (report.ok) return { ok: true };
      return reply.code(503).send({
        ok: false,
        ...errorBody('unavailable', report.message ?? 'The bridge cannot reach Temporal or its store.'),
      });
    },
  });

  r.get('/openapi.json', { schema: { summary: 'This description of the API', tags: ['meta'] } }, async () =>
    app.swagger(),
  );
}

/** A check that does not answer in time counts as down: /healthz must answer quickly either way. */
async function withTimeout(check: Promise<HealthReport>, ms: number): Promise<HealthReport> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<HealthReport>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, message: `The readiness check did not answer within ${ms} ms.` }),
      ms,
    );
  });
  try {
    return await Promise.race([
      check.catch((): HealthReport => ({ ok: false, message: 'The readiness check failed.' })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
