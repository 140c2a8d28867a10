// The one definition of what a request may contain: the HTTP API validates with these schemas, the
// CLI builds the same objects from its flags and validates with them too, and /openapi.json is
// generated from them. `describeIssue` turns the first problem into one sentence naming the field.
import * as path from 'node:path';
import { z } from 'zod';
import { InvalidNotifyTargetError, parseNotifyTarget } from '../contract/notify-target';
import { decodeListCursor, type ListCursor } from '../store/list-cursor';
import { SCHEDULE_ID_PATTERN, SCHEDULE_OVERLAP_POLICIES } from '../contract/schedule';
import {
  ISOLATION_MODES,
  APPROVAL_DECISIONS,
  APPROVAL_POLICIES,
  MAX_PROMPT_LENGTH,
  NOTIFICATION_STATUSES,
  SANDBOX_MODES,
  TASK_ID_PATTERN,
  TASK_STATUSES,
} from '../contract/task';
import { REPLY_ID_PATTERN } from '../contract/replies';

/** Request ids are minted by the bridge; this admits UUIDs, "cmd-3", "42" and similar. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$/;
export const MAX_LIST_LIMIT = 1000;

/** Marks a custom issue whose message is already a whole sentence naming the field. */
const SENTENCE = { sentence: true } as const;

export const promptSchema = z
  .string()
  .min(1)
  .max(MAX_PROMPT_LENGTH)
  .refine((s) => s.trim() !== '', 'must not be blank')
  .describe(`What Codex should do (1-${MAX_PROMPT_LENGTH} characters, not only spaces).`);

export const taskIdSchema = z
  .string()
  .regex(TASK_ID_PATTERN, 'must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit')
  .describe('The task id, which is also the Temporal workflow id.');

export const requestIdSchema = z
  .string()
  .regex(REQUEST_ID_PATTERN, 'must be 1-256 letters, digits, ".", "_", ":" or "-", starting with a letter or digit')
  .describe("The id of a pending request, from the task document's pending_requests.");

export const notifyTargetSchema = z
  .string()
  .superRefine((raw, ctx) => {
    try {
      parseNotifyTarget(raw);
    } catch (e) {
      if (!(e instanceof InvalidNotifyTargetError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.message, params: SENTENCE });
    }
  })
  .describe('local, feishu:<chat_id>, hermes:<platform>:<chat_id>[:<thread_id>] or webhook:<http(s) url>.');

const cwdSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'must not contain NUL characters')
  .refine((p) => path.isAbsolute(p), 'must be an absolute path')
  .describe(
    'Working directory of the Codex thread (absolute; must be under CODEX_BRIDGE_ALLOWED_ROOTS when that is set).',
  );

const modelSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((m) => !/\s/.test(m), 'must not contain spaces')
  .describe('Codex model, e.g. gpt-5-codex; omitted or null for the Codex default.');

export const sandboxSchema = z.enum(SANDBOX_MODES);
export const approvalPolicySchema = z.enum(APPROVAL_POLICIES);
export const approvalDecisionSchema = z.enum(APPROVAL_DECISIONS);
export const taskStatusSchema = z.enum(TASK_STATUSES);
export const notificationStatusSchema = z.enum(NOTIFICATION_STATUSES);

export const startTaskBodySchema = z
  .strictObject({
    prompt: promptSchema,
    cwd: cwdSchema.optional(),
    notify_target: notifyTargetSchema.nullable().optional(),
    model: modelSchema.nullable().optional(),
    sandbox: sandboxSchema.optional(),
    approval_policy: approvalPolicySchema.optional(),
    isolation: z
      .enum(ISOLATION_MODES)
      .optional()
      .describe(
        'worktree: run in a fresh git worktree on the branch codex/<task_id> (cwd must be in a git repository); default: CODEX_BRIDGE_ISOLATION (none).',
      ),
    task_id: taskIdSchema.optional(),
  })
  .describe('A new task.');

export const taskParamsSchema = z.strictObject({ task_id: taskIdSchema });
export const requestParamsSchema = z.strictObject({ task_id: taskIdSchema, request_id: requestIdSchema });

export const approvalBodySchema = z.strictObject({ decision: approvalDecisionSchema });

export const userInputAnswersSchema = z
  .record(z.string().min(1).max(256), z.array(z.string().max(10_000)).max(100))
  .refine((answers) => Object.keys(answers).length > 0, 'must contain at least one question id')
  .refine((answers) => Object.keys(answers).length <= 100, 'must contain at most 100 question ids')
  .describe('Question id → the chosen or typed answers, e.g. {"q1":["yes"]}.');

export const answersBodySchema = z.strictObject({ answers: userInputAnswersSchema });

export const replyIdSchema = z
  .string()
  .regex(REPLY_ID_PATTERN, 'must be 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit')
  .describe('Names the reply: sending the same id again changes nothing. Default: a new id.');

export const replyBodySchema = z.strictObject({ prompt: promptSchema, reply_id: replyIdSchema.optional() });

export const eventsQuerySchema = z.strictObject({
  follow: z
    .enum(['true', 'false'])
    .optional()
    .describe('true: keep the stream open and send events as they happen, until the turn ends.'),
});

export const notifyCompletedBodySchema = z
  .strictObject({
    dry_run: z.boolean().optional().describe('Return the preview; send and write nothing.'),
    retry_failed: z.boolean().optional().describe('Also retry tasks whose notification_status is failed.'),
  })
  // No body at all is fine here (fastify hands a missing body over as null).
  .nullish();

/** Query strings arrive as text; the CLI's --limit does too. */
export const limitSchema = z
  .string()
  .regex(/^\d{1,7}$/, `must be a whole number from 1 to ${MAX_LIST_LIMIT}`)
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_LIST_LIMIT))
  .describe(`How many tasks, newest first (1-${MAX_LIST_LIMIT}, default 50).`);

export const listCursorSchema = z
  .string()
  .transform((text, ctx): ListCursor => {
    const cursor = decodeListCursor(text);
    if (!cursor) {
      ctx.addIssue({ code: 'custom', message: 'must be the next_cursor of an earlier list' });
      return z.NEVER;
    }
    return cursor;
  })
  .describe('Continue after this point: the next_cursor of the previous page.');

export const listQuerySchema = z.strictObject({
  status: taskStatusSchema.optional(),
  notification_status: notificationStatusSchema.optional(),
  notify_target: notifyTargetSchema.optional(),
  limit: limitSchema.optional(),
  before: listCursorSchema.optional(),
});

// ---- Schedules ----

export const scheduleIdSchema = z
  .string()
  .regex(SCHEDULE_ID_PATTERN, 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit')
  .describe('The schedule id (also the Temporal Schedule id); each run starts the task `<schedule id>-<time>`.');

const cronSchema = z
  .string()
  .min(1)
  .max(200)
  .refine(
    (c) => c.trim().split(/\s+/).length >= 5 || c.trim().startsWith('@'),
    'must be a cron expression such as "0 9 * * 1-5"',
  )
  .describe(
    'A cron expression: minute hour day-of-month month day-of-week (a 6th field is the year; 7 fields put seconds first), or @daily, @every 1h.',
  );

export const createScheduleBodySchema = startTaskBodySchema
  .omit({ task_id: true })
  .extend({
    schedule_id: scheduleIdSchema.optional(),
    cron: z.union([cronSchema, z.array(cronSchema).min(1).max(20)]).transform((c) => (Array.isArray(c) ? c : [c])),
    timezone: z.string().min(1).max(100).optional().describe('An IANA time zone such as Europe/Berlin; default UTC.'),
    overlap: z
      .enum(SCHEDULE_OVERLAP_POLICIES)
      .optional()
      .describe('When a run is due while the previous task still runs; default skip.'),
    paused: z.boolean().optional().describe('Create the schedule paused.'),
  })
  .describe('A recurring task: each run starts an ordinary task with these fields.');

export const scheduleParamsSchema = z.strictObject({ schedule_id: scheduleIdSchema });
export const pauseScheduleBodySchema = z
  .strictObject({ note: z.string().max(500).optional().describe('Why; shown in the Web UI.') })
  .nullish();

export const scheduleDocumentSchema = z
  .object({
    schedule_id: z.string(),
    cron: z.array(z.string()),
    timezone: z.string().nullable(),
    overlap: z.enum(SCHEDULE_OVERLAP_POLICIES),
    paused: z.boolean(),
    note: z.string().nullable(),
    task: z.object({
      prompt: z.string(),
      cwd: z.string(),
      model: z.string().nullable(),
      sandbox: sandboxSchema,
      approval_policy: approvalPolicySchema,
      notify_target: z.string().nullable(),
      isolation: z.enum(ISOLATION_MODES).optional(),
    }),
    next_runs: z.array(z.string()),
    recent_runs: z.array(z.object({ scheduled_at: z.string(), task_id: z.string() })),
  })
  .describe('A schedule: when it runs and the task each run starts.');
export const scheduleListSchema = z.object({ schedules: z.array(scheduleDocumentSchema) });
export const scheduleDeletedSchema = z.object({ schedule_id: z.string(), deleted: z.literal(true) });

export type StartTaskBody = z.output<typeof startTaskBodySchema>;
export type ListQuery = z.output<typeof listQuerySchema>;

// ---- Answers (documentation only: responses are not re-validated, see server.ts) ----

export const errorBodySchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .describe('Every error: a stable code and one sentence a person can act on.');

// Written out in full so that the type checker holds them to the domain types (routes.ts returns
// TaskDocument through them) and /openapi.json tells Hermes every field.
const pendingRequestSchema = z.object({
  request_id: z.string(),
  kind: z.enum(['command_approval', 'file_change_approval', 'permissions_approval', 'user_input']),
  summary: z.string(),
  created_at: z.string(),
});

const tokenUsageSchema = z.object({
  input_tokens: z.number(),
  cached_input_tokens: z.number(),
  output_tokens: z.number(),
  reasoning_output_tokens: z.number(),
  total_tokens: z.number(),
});

const taskResultSchema = z.object({
  final_message: z.string().nullable(),
  summary: z.string(),
  thread_id: z.string().nullable(),
  turn_id: z.string().nullable(),
  usage: tokenUsageSchema.nullable(),
  commands: z.array(
    z.object({
      command: z.string(),
      exit_code: z.number().nullable(),
      status: z.string(),
      output: z.string(),
      duration_ms: z.number().nullable(),
    }),
  ),
  file_changes: z.array(z.object({ path: z.string(), kind: z.string(), diff: z.string() })),
  diff: z.string().nullable(),
});

const taskErrorSchema = z.object({ type: z.string(), message: z.string() });

const turnRecordSchema = z.object({
  turn: z.number(),
  prompt: z.string(),
  status: taskStatusSchema,
  result: taskResultSchema.nullable(),
  error: taskErrorSchema.nullable(),
  notification_status: notificationStatusSchema.nullable(),
  notified_at: z.string().nullable(),
  notification_error: z.string().nullable(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  replies: z
    .array(z.object({ reply_id: z.string(), prompt: z.string(), delivered: z.enum(['steered', 'turn_input']) }))
    .optional()
    .describe('Replies this turn took: steered into it while it ran, or as its input.'),
});

export const taskDocumentSchema = z
  .object({
    task_id: z.string(),
    workflow_id: z.string(),
    run_id: z.string().nullable(),
    prompt: z.string(),
    cwd: z.string(),
    model: z.string().nullable(),
    sandbox: sandboxSchema,
    approval_policy: approvalPolicySchema,
    isolation: z.enum(ISOLATION_MODES).optional(),
    branch: z.string().nullable().optional(),
    worktree: z
      .object({
        path: z.string(),
        base_commit: z.string(),
        commits: z.array(z.object({ sha: z.string(), subject: z.string() })),
        uncommitted_diff_stat: z.string().nullable(),
        removed: z.boolean(),
      })
      .nullable()
      .optional(),
    status: taskStatusSchema,
    queue_position: z
      .number()
      .nullable()
      .optional()
      .describe('While queued for a slot: how many queued tasks are ahead.'),
    resumes_at: z.string().nullable().optional().describe('While waiting_for_quota: when the turn is tried again.'),
    notify_target: z.string().nullable(),
    notification_status: notificationStatusSchema.nullable(),
    notified_at: z.string().nullable(),
    notification_error: z.string().nullable(),
    notification_attempts: z.number(),
    pending_requests: z.array(pendingRequestSchema),
    queued_replies: z
      .array(
        z.object({
          reply_id: z.string(),
          prompt: z.string(),
          state: z.enum(['queued', 'steering']),
          received_at: z.string(),
        }),
      )
      .optional()
      .describe('Replies sent while a turn ran that wait for the next turn, in order.'),
    result: taskResultSchema.nullable(),
    error: taskErrorSchema.nullable(),
    turns: z.array(turnRecordSchema),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    updated_at: z.string(),
    version: z.number(),
  })
  .describe('The task document (also what MongoDB codex_bridge.tasks holds).');

export const taskListSchema = z.object({
  tasks: z.array(taskDocumentSchema),
  next_cursor: z.string().nullable().describe('Pass as before for the next page; null on the last page.'),
});
export const cancelAcceptedSchema = z.object({ task_id: z.string(), status: z.literal('cancelling') });
export const watcherReportSchema = z.object({
  dry_run: z.boolean(),
  scanned: z.number(),
  sent: z.number(),
  failed: z.number(),
  no_target: z.number(),
  skipped: z.number(),
  items: z.array(
    z.object({
      task_id: z.string(),
      status: taskStatusSchema,
      notify_target: z.string().nullable(),
      action: z.enum(['send', 'sent', 'failed', 'mark_no_target', 'marked_no_target', 'skipped_workflow_running']),
      message: z.string().optional(),
      error: z.string().optional(),
    }),
  ),
});
export const healthSchema = z.object({ ok: z.boolean() });

// ---- Issues → one sentence ----

export interface DescribeOptions {
  /** What an issue at the root is about, e.g. "the request body". */
  subject: string;
  /** How a field path is shown; the CLI shows flags (--notify-target) instead of JSON names. */
  label?: (path: string) => string;
  /** Query strings: an array means the parameter was repeated. */
  query?: boolean;
}

/** Parses with the issue's input kept, which tells "missing" from "wrong type" apart. */
export function parseRequest<S extends z.ZodType>(schema: S, data: unknown): z.ZodSafeParseResult<z.output<S>> {
  return schema.safeParse(data, { reportInput: true });
}

/** The first issue as one sentence, e.g. "prompt must not be blank." or 'unknown field "foo" in the request body.' */
export function describeIssues(error: z.ZodError, options: DescribeOptions): string {
  return describeIssue(error.issues[0]!, options);
}

export function describeIssue(issue: z.core.$ZodIssue, options: DescribeOptions): string {
  const key = issue.path.map(String).join('.');
  const label = key === '' ? options.subject : (options.label ?? ((p: string) => p))(key);
  // Field names stay as written ("prompt must…"); other sentences start with a capital.
  const sentence = (text: string) => {
    const capital =
      key === '' || issue.code === 'unrecognized_keys' ? text.charAt(0).toUpperCase() + text.slice(1) : text;
    return capital.replace(/\.?$/, '.');
  };
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return sentence(`${label} is required`);
      if (options.query && Array.isArray(issue.input)) return sentence(`${label} must be given only once`);
      return sentence(`${label} must be ${expected(issue.expected)}`);
    }
    case 'too_small':
      if (issue.origin === 'string')
        return sentence(
          Number(issue.minimum) <= 1
            ? `${label} must not be empty`
            : `${label} must be at least ${issue.minimum} characters`,
        );
      if (issue.origin === 'array') return sentence(`${label} must have at least ${issue.minimum} items`);
      return sentence(`${label} must be at least ${issue.minimum}`);
    case 'too_big':
      if (issue.origin === 'string') return sentence(`${label} must be at most ${issue.maximum} characters`);
      if (issue.origin === 'array') return sentence(`${label} must have at most ${issue.maximum} items`);
      return sentence(`${label} must be at most ${issue.maximum}`);
    case 'invalid_value':
      if (issue.input === undefined) return sentence(`${label} is required`);
      return sentence(`${label} must be one of ${issue.values.map(String).join(', ')}`);
    case 'unrecognized_keys': {
      // The names come from the caller: quote a few, shortened, so the sentence stays a sentence.
      const shown = issue.keys.slice(0, 3).map((k) => JSON.stringify(k.length > 40 ? `${k.slice(0, 37)}...` : k));
      const names = `${shown.join(', ')}${issue.keys.length > 3 ? ` and ${issue.keys.length - 3} more` : ''}`;
      return sentence(
        `unknown field${issue.keys.length > 1 ? 's' : ''} ${names} in ${key === '' ? options.subject : label}`,
      );
    }
    case 'invalid_key':
      return sentence(`${label} has an invalid key`);
    case 'invalid_union':
      // A field that may take several forms (a cron expression or a list of them).
      return sentence(issue.input === undefined ? `${label} is required` : `${label} is invalid`);
    case 'custom':
      if ((issue.params as { sentence?: boolean } | undefined)?.sentence) return sentence(issue.message);
      return sentence(`${label} ${issue.message}`);
    case 'invalid_format':
      // Our regexes carry a message that continues the field name; built-in formats do not.
      return sentence(
        issue.format === 'regex' ? `${label} ${issue.message}` : `${label} must be a valid ${issue.format}`,
      );
    default:
      return sentence(`${label} is invalid`);
  }
}

function expected(type: string): string {
  switch (type) {
    case 'object':
    case 'record':
      return 'a JSON object';
    case 'array':
      return 'an array';
    case 'boolean':
      return 'true or false';
    case 'int':
      return 'an integer';
    default:
      return `a ${type}`;
  }
}
