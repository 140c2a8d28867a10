// Configuration: read from the environment once, validated with one schema.
// A missing or malformed value fails fast with one sentence naming the variable.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { ISOLATION_MODES, type IsolationMode } from './contract/task';
import type { AdmissionLimits } from './contract/admission';
import { DEFAULT_HERMES_MAX_SENDS, DEFAULT_HERMES_TIMEOUT_MS } from '../activities/notify/hermes-notifier';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from './worker-memory';

const hostPort = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine(
      (v) => /^[^\s:]+:\d{1,5}$/.test(v) && Number(v.split(':').pop()) <= 65535,
      'must be host:port, e.g. 127.0.0.1:7233',
    );

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** A comma-separated list of channel names, or `none`. */
const channelList = <C extends string>(channels: readonly C[], fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const list = v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '' && s !== 'none');
      if (list.every((s): s is C => (channels as readonly string[]).includes(s))) return list;
      ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of ${channels.join(', ')}, or none` });
      return z.NEVER;
    });

const jsonStringArray = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return [] as string[];
    try {
      const parsed: unknown = JSON.parse(v);
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed as string[];
    } catch {
      /* reported below */
    }
    ctx.addIssue({ code: 'custom', message: 'must be a JSON array of strings, e.g. ["model=\\"o3\\""]' });
    return z.NEVER;
  });

const jsonStringMap = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return {} as Record<string, string>;
    try {
      const parsed: unknown = JSON.parse(v);
      if (
        parsed &&
        typeof parsed === 'object' &&
        !Array.isArray(parsed) &&
        Object.values(parsed).every((x) => typeof x === 'string')
      ) {
        return parsed as Record<string, string>;
      }
    } catch {
      /* reported below */
    }
    ctx.addIssue({
      code: 'custom',
      message: 'must be a JSON object of strings, e.g. {"telegram":"http://127.0.0.1:8644/webhooks/codex"}',
    });
    return z.NEVER;
  });

const booleanFlag = z
  .string()
  .trim()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === '') return undefined;
    if (/^(true|1|yes|on)$/i.test(v)) return true;
    if (/^(false|0|no|off)$/i.test(v)) return false;
    ctx.addIssue({ code: 'custom', message: 'must be true or false' });
    return z.NEVER;
  });

/** A PEM file the process can read now: a wrong path fails at start, not at the first connection. */
const pemFile = optionalString.superRefine((file, ctx) => {
  if (file === undefined) return;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    ctx.addIssue({
      code: 'custom',
      message: code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? String(error)})`,
    });
    return;
  }
  if (!text.includes('-----BEGIN '))
    ctx.addIssue({ code: 'custom', message: 'is not a PEM file (no -----BEGIN line)' });
});

const duration = (fallbackMs: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallbackMs;
      const ms = parseDuration(v);
      if (ms === null) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a duration such as 90s, 30m, 2h or a number of milliseconds',
        });
        return z.NEVER;
      }
      return ms;
    });

/** A whole number in [min, max]; unset or empty: the fallback. */
const wholeNumber = (min: number, max: number, fallback: () => number, hint = '') =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback();
      const n = Number(v);
      if (!/^\s*\d+\s*$/.test(v) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}${hint}` });
        return z.NEVER;
      }
      return n;
    });

/** One delivery attempt may run 2 minutes (the workflow's limit); a request must end well before. */
const MAX_NOTIFY_REQUEST_MS = 100_000;
const NOTIFY_REQUEST_LIMIT = 'must be at most 100s: one delivery attempt is given 2 minutes';

/** A limit on turns running at once: a whole number, 0 meaning none. */
const admissionLimit = (fallback: number) =>
  z.coerce.number().int('must be a whole number').min(0, 'must be 0 (no limit) or more').max(1000).default(fallback);

export const configSchema = z.object({
  TEMPORAL_ADDRESS: hostPort('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default('codex-bridge'),
  TEMPORAL_TLS: booleanFlag,
  TEMPORAL_TLS_CA_FILE: pemFile,
  TEMPORAL_TLS_CERT_FILE: pemFile,
  TEMPORAL_TLS_KEY_FILE: pemFile,
  TEMPORAL_TLS_SERVER_NAME: optionalString,
  TEMPORAL_API_KEY: optionalString,
  CODEX_BRIDGE_REGISTER_SEARCH_ATTRIBUTES: booleanFlag,
  MONGODB_URI: z
    .string()
    .trim()
    .default('mongodb://127.0.0.1:27017')
    .refine((v) => /^mongodb(\+srv)?:\/\/\S+$/.test(v), 'must be a mongodb:// or mongodb+srv:// URI'),
  MONGODB_DB: z
    .string()
    .trim()
    .default('codex_bridge')
    .refine((v) => /^[A-Za-z0-9_-]{1,63}$/.test(v), 'must be a database name of letters, digits, _ or -'),
  CODEX_BIN: optionalString,
  CODEX_HOME: optionalString,
  CODEX_BRIDGE_CODEX_CONFIG: jsonStringArray,
  CODEX_BRIDGE_APP_SERVERS: wholeNumber(0, 64, () => defaultAppServers(), ' (0: a fresh app-server for every turn)'),
  CODEX_BRIDGE_WORKFLOW_CACHE: wholeNumber(2, 100_000, () => DEFAULT_MAX_CACHED_WORKFLOWS),
  CODEX_BRIDGE_ALLOWED_ROOTS: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(path.delimiter)
        .map((p) => p.trim())
        .filter((p) => p !== '')
        .map((p) => path.resolve(p)),
    ),
  CODEX_BRIDGE_API_ADDR: hostPort('127.0.0.1:8787'),
  CODEX_BRIDGE_API_TOKEN: optionalString,
  CODEX_BRIDGE_METRICS_ADDR: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || /^[^\s:]+:\d{1,5}$/.test(v), 'must be host:port, e.g. 127.0.0.1:9464'),
  CODEX_BRIDGE_LOCAL_INBOX: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : path.join(os.homedir(), '.codex-bridge', 'inbox.jsonl'))),
  CODEX_BRIDGE_UI_URL: httpUrl.optional().or(z.literal('').transform(() => undefined)),
  CODEX_BRIDGE_WEBHOOK_SECRET: optionalString,
  CODEX_BRIDGE_TURN_TIMEOUT: duration(60 * 60_000),
  CODEX_BRIDGE_REQUEST_TIMEOUT: duration(24 * 60 * 60_000),
  CODEX_BRIDGE_QUOTA_BACKOFF: duration(15 * 60_000).refine((ms) => ms >= 10_000, 'must be at least 10s'),
  CODEX_BRIDGE_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  CODEX_BRIDGE_ISOLATION: z.enum(ISOLATION_MODES).default('none'),
  // Limits on turns running at once (0: no limit); `off` starts every turn at once.
  CODEX_BRIDGE_ADMISSION: z.enum(['on', 'off']).default('on'),
  CODEX_BRIDGE_MAX_RUNNING: admissionLimit(4),
  CODEX_BRIDGE_MAX_PER_REPOSITORY: admissionLimit(1),
  CODEX_BRIDGE_MAX_PER_TARGET: admissionLimit(3),
  CODEX_BRIDGE_WORKTREE_ROOT: z
    .string()
    .trim()
    .optional()
    .transform((v) => path.resolve(v ? v : path.join(os.homedir(), '.codex-bridge', 'worktrees'))),
  CODEX_BRIDGE_WORKTREE_RETENTION: duration(0),
  FEISHU_APP_ID: optionalString,
  FEISHU_APP_SECRET: optionalString,
  FEISHU_BASE_URL: httpUrl.default('https://open.feishu.cn'),
  FEISHU_ENCRYPT_KEY: optionalString,
  FEISHU_VERIFICATION_TOKEN: optionalString,
  FEISHU_LONG_CONNECTION: z
    .enum(['true', 'false'])
    .default('false')
    .describe("true: serve receives card button clicks over the Lark SDK's long connection (no public URL)."),
  HERMES_WEBHOOK_URL: httpUrl.optional().or(z.literal('').transform(() => undefined)),
  HERMES_WEBHOOK_SECRET: optionalString,
  HERMES_WEBHOOK_ROUTES: jsonStringMap,
  HERMES_WEBHOOK_TIMEOUT: duration(DEFAULT_HERMES_TIMEOUT_MS).refine(
    (ms) => ms <= MAX_NOTIFY_REQUEST_MS,
    NOTIFY_REQUEST_LIMIT,
  ),
  HERMES_WEBHOOK_MAX_SENDS: z.coerce.number().int().min(1).max(100).default(DEFAULT_HERMES_MAX_SENDS),
  CODEX_BRIDGE_NOTIFY_TIMEOUT: duration(10_000).refine((ms) => ms <= MAX_NOTIFY_REQUEST_MS, NOTIFY_REQUEST_LIMIT),
  CODEX_BRIDGE_PROGRESS: channelList(['feishu', 'webhook'], 'feishu,webhook').describe(
    'Channels whose targets get a progress message per turn: feishu (a card edited in place), webhook (progress events); none: no progress.',
  ),
  CODEX_BRIDGE_PROGRESS_OPT_OUT: z
    .string()
    .default('')
    .transform((v) => v.split(/\s+/).filter((s) => s !== ''))
    .describe('Notify targets (space-separated, as given to --notify-target) that get no progress messages.'),
  CODEX_BRIDGE_PROGRESS_INTERVAL: duration(3000).refine(
    (ms) => ms >= 1000,
    'must be at least 1s (Feishu takes 5 edits per second per message)',
  ),
  CODEX_BRIDGE_MILESTONES: channelList(['hermes', 'local'], 'none').describe(
    'Channels whose targets get a few separate milestone messages during a long turn: hermes, local; none.',
  ),
  CODEX_BRIDGE_MILESTONE_INTERVAL: duration(5 * 60_000).refine((ms) => ms >= 1000, 'must be at least 1s'),
  CODEX_BRIDGE_MILESTONE_MAX: z.coerce.number().int().min(1).max(50).default(10),
});

export type RawConfig = z.output<typeof configSchema>;

/** The validated configuration, in the shape the code uses. */
/** How to reach Temporal securely; absent means plain-text gRPC (the dev server). */
export interface TemporalTls {
  /** PEM file of the CA that signed the server's certificate; absent means the system's CAs. */
  caFile?: string;
  /** PEM files of the client certificate and its key, for mTLS. */
  certFile?: string;
  keyFile?: string;
  /** The name the server's certificate carries, when it differs from the address's host. */
  serverName?: string;
}

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  tls?: TemporalTls;
  /** Sent as a bearer token (Temporal Cloud API keys); implies TLS. */
  apiKey?: string;
  /** Whether `worker` registers the namespace's search attributes when they are missing. */
  registerSearchAttributes: boolean;
}

export interface Config {
  temporal: TemporalSettings;
  mongo: { uri: string; db: string };
  codex: {
    bin: string | undefined;
    home: string | undefined;
    configOverrides: string[];
    allowedRoots: string[];
    /** Long-lived app-servers per worker, shared by its turns; 0: one fresh app-server per turn. */
    appServers: number;
    turnTimeoutMs: number;
    requestTimeoutMs: number;
    /** How long a turn that hit the usage or rate limit waits when Codex names no reset time. */
    quotaBackoffMs: number;
  };
  /** Limits on turns running at once (0: no limit); null when admission is off. */
  admission: AdmissionLimits | null;
  isolation: {
    /** A task's isolation when its request names none. */
    defaultMode: IsolationMode;
    /** Where task worktrees are created, one directory per task. */
    worktreeRoot: string;
    /** How long a finished task's worktree stays (0: removed when the task ends; its branch stays). */
    retentionMs: number;
  };
  api: { addr: string; token: string | undefined };
  metricsAddr: string | undefined;
  /** Workflows the worker keeps cached (maxCachedWorkflows). */
  workflowCacheSize: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  uiUrl: string | undefined;
  notifiers: {
    localInbox: string;
    /** encryptKey/verificationToken: card button callbacks (POST /v1/feishu/card-callback). */
    feishu: {
      appId: string | undefined;
      appSecret: string | undefined;
      baseUrl: string;
      encryptKey?: string;
      verificationToken?: string;
      longConnection?: boolean;
    };
    hermes: {
      url: string | undefined;
      secret: string | undefined;
      routes: Record<string, string>;
      timeoutMs: number;
      maxSends: number;
    };
    webhook: { secret: string | undefined };
    /** Per-request timeout of Feishu and webhook deliveries (Hermes has its own). */
    timeoutMs: number;
    /** Progress messages edited in place while a turn runs, and how often at most. */
    progress: { feishu: boolean; webhook: boolean; minIntervalMs: number; optOut: string[] };
    /** Separate milestone messages during a long turn, for channels that cannot edit a message. */
    milestones: { channels: ('hermes' | 'local')[]; intervalMs: number; maxPerTurn: number };
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'configuration');
    const shown =
      env[name] === undefined ? 'is missing' : `is invalid (${JSON.stringify(redactIfSecret(name, env[name]!))})`;
    throw new ConfigError(`${name} ${shown}: ${issue.message}.`);
  }
  const c = parsed.data;
  if ((c.FEISHU_APP_ID === undefined) !== (c.FEISHU_APP_SECRET === undefined)) {
    const missing = c.FEISHU_APP_ID === undefined ? 'FEISHU_APP_ID' : 'FEISHU_APP_SECRET';
    throw new ConfigError(`${missing} is missing: FEISHU_APP_ID and FEISHU_APP_SECRET must be set together.`);
  }
  if (c.FEISHU_LONG_CONNECTION === 'true' && c.FEISHU_APP_ID === undefined) {
    throw new ConfigError('FEISHU_APP_ID is missing: FEISHU_LONG_CONNECTION=true needs the Feishu app credentials.');
  }
  if (c.HERMES_WEBHOOK_URL !== undefined && c.HERMES_WEBHOOK_SECRET === undefined) {
    throw new ConfigError('HERMES_WEBHOOK_SECRET is missing: the Hermes gateway webhook route needs its HMAC secret.');
  }
  return {
    temporal: {
      address: c.TEMPORAL_ADDRESS,
      namespace: c.TEMPORAL_NAMESPACE,
      taskQueue: c.TEMPORAL_TASK_QUEUE,
      ...temporalSecurity(c),
      registerSearchAttributes: c.CODEX_BRIDGE_REGISTER_SEARCH_ATTRIBUTES ?? false,
    },
    mongo: { uri: c.MONGODB_URI, db: c.MONGODB_DB },
    codex: {
      bin: c.CODEX_BIN,
      home: c.CODEX_HOME,
      configOverrides: c.CODEX_BRIDGE_CODEX_CONFIG,
      allowedRoots: c.CODEX_BRIDGE_ALLOWED_ROOTS,
      appServers: c.CODEX_BRIDGE_APP_SERVERS,
      turnTimeoutMs: c.CODEX_BRIDGE_TURN_TIMEOUT,
      requestTimeoutMs: c.CODEX_BRIDGE_REQUEST_TIMEOUT,
      quotaBackoffMs: c.CODEX_BRIDGE_QUOTA_BACKOFF,
    },
    admission:
      c.CODEX_BRIDGE_ADMISSION === 'off'
        ? null
        : {
            max_running: c.CODEX_BRIDGE_MAX_RUNNING,
            per_repository: c.CODEX_BRIDGE_MAX_PER_REPOSITORY,
            per_notify_target: c.CODEX_BRIDGE_MAX_PER_TARGET,
          },
    isolation: {
      defaultMode: c.CODEX_BRIDGE_ISOLATION,
      worktreeRoot: c.CODEX_BRIDGE_WORKTREE_ROOT,
      retentionMs: c.CODEX_BRIDGE_WORKTREE_RETENTION,
    },
    api: { addr: c.CODEX_BRIDGE_API_ADDR, token: c.CODEX_BRIDGE_API_TOKEN },
    metricsAddr: c.CODEX_BRIDGE_METRICS_ADDR,
    workflowCacheSize: c.CODEX_BRIDGE_WORKFLOW_CACHE,
    logLevel: c.CODEX_BRIDGE_LOG_LEVEL,
    uiUrl: c.CODEX_BRIDGE_UI_URL,
    notifiers: {
      localInbox: c.CODEX_BRIDGE_LOCAL_INBOX,
      feishu: {
        appId: c.FEISHU_APP_ID,
        appSecret: c.FEISHU_APP_SECRET,
        baseUrl: c.FEISHU_BASE_URL.replace(/\/+$/, ''),
        encryptKey: c.FEISHU_ENCRYPT_KEY,
        verificationToken: c.FEISHU_VERIFICATION_TOKEN,
        longConnection: c.FEISHU_LONG_CONNECTION === 'true',
      },
      hermes: {
        url: c.HERMES_WEBHOOK_URL,
        secret: c.HERMES_WEBHOOK_SECRET,
        routes: c.HERMES_WEBHOOK_ROUTES,
        timeoutMs: c.HERMES_WEBHOOK_TIMEOUT,
        maxSends: c.HERMES_WEBHOOK_MAX_SENDS,
      },
      webhook: { secret: c.CODEX_BRIDGE_WEBHOOK_SECRET },
      timeoutMs: c.CODEX_BRIDGE_NOTIFY_TIMEOUT,
      progress: {
        feishu: c.CODEX_BRIDGE_PROGRESS.includes('feishu'),
        webhook: c.CODEX_BRIDGE_PROGRESS.includes('webhook'),
        minIntervalMs: c.CODEX_BRIDGE_PROGRESS_INTERVAL,
        optOut: c.CODEX_BRIDGE_PROGRESS_OPT_OUT,
      },
      milestones: {
        channels: c.CODEX_BRIDGE_MILESTONES,
        intervalMs: c.CODEX_BRIDGE_MILESTONE_INTERVAL,
        maxPerTurn: c.CODEX_BRIDGE_MILESTONE_MAX,
      },
    },
  };
}

/** TLS is on when asked for, or when any TLS file, server name or API key is given. */
function temporalSecurity(c: RawConfig): Pick<TemporalSettings, 'tls' | 'apiKey'> {
  if ((c.TEMPORAL_TLS_CERT_FILE === undefined) !== (c.TEMPORAL_TLS_KEY_FILE === undefined)) {
    const missing = c.TEMPORAL_TLS_CERT_FILE === undefined ? 'TEMPORAL_TLS_CERT_FILE' : 'TEMPORAL_TLS_KEY_FILE';
    throw new ConfigError(
      `${missing} is missing: a client certificate (TEMPORAL_TLS_CERT_FILE) and its key (TEMPORAL_TLS_KEY_FILE) must be set together.`,
    );
  }
  const tls: TemporalTls = {
    ...(c.TEMPORAL_TLS_CA_FILE !== undefined ? { caFile: c.TEMPORAL_TLS_CA_FILE } : {}),
    ...(c.TEMPORAL_TLS_CERT_FILE !== undefined
      ? { certFile: c.TEMPORAL_TLS_CERT_FILE, keyFile: c.TEMPORAL_TLS_KEY_FILE }
      : {}),
    ...(c.TEMPORAL_TLS_SERVER_NAME !== undefined ? { serverName: c.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
  const implied = Object.keys(tls).length > 0 || c.TEMPORAL_API_KEY !== undefined;
  if (c.TEMPORAL_TLS === false && implied) {
    const why =
      c.TEMPORAL_API_KEY !== undefined
        ? 'TEMPORAL_API_KEY is sent only over TLS'
        : 'the TEMPORAL_TLS_* files and server name need TLS';
    throw new ConfigError(`TEMPORAL_TLS is false but ${why}: unset TEMPORAL_TLS or the TLS settings.`);
  }
  const on = c.TEMPORAL_TLS === true || implied;
  return { ...(on ? { tls } : {}), ...(c.TEMPORAL_API_KEY !== undefined ? { apiKey: c.TEMPORAL_API_KEY } : {}) };
}

/** The variables the schema knows (the compose-file test checks against this list). */
export const CONFIG_VARIABLES = Object.keys(configSchema.shape) as (keyof typeof configSchema.shape)[];

/**
 * Two app-servers, or one per four cores on bigger machines (at most 8). One app-server's runtime
 * already uses every core, so more processes buy isolation, not speed: a crash fails only the
 * turns of its process, and two halve that. Each idle process costs memory, so few.
 */
export function defaultAppServers(cpus = os.cpus().length): number {
  return Math.min(8, Math.max(2, Math.floor(cpus / 4)));
}

/** Parses "90s", "30m", "2h", "1d", "500ms" or a bare number of milliseconds. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  const ms = Math.round(Number(m[1]) * unit);
  return ms > 0 ? ms : null;
}

function redactIfSecret(name: string, value: string): string {
  return /SECRET|TOKEN|PASSWORD|KEY/.test(name) ? '***' : value.length > 60 ? `${value.slice(0, 57)}...` : value;
}
