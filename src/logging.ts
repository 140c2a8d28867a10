// Structured logs: one JSON object per line ({time, level, msg, task_id?, ...context}) on stderr,
// so stdout stays free for the CLI's answers. Every line passes a redaction step first: the
// configured secrets are registered once at start-up and never reach a log, whatever carries them.
import type { LogLevel as TemporalLogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Config } from './config';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogContext = Record<string, unknown>;

export interface Logger {
  debug(msg: string, context?: LogContext): void;
  info(msg: string, context?: LogContext): void;
  warn(msg: string, context?: LogContext): void;
  error(msg: string, context?: LogContext): void;
  /** A logger that adds `context` (e.g. `{ task_id }`) to every line. */
  child(context: LogContext): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to process.stderr. Each call receives one line ending in "\n". */
  write?: (line: string) => void;
  /** Fields on every line (e.g. `{ component: 'worker' }`). */
  context?: LogContext;
}

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const REDACTED = '***';
/** Shorter values would shred ordinary words out of every line; such a "secret" guards nothing anyway. */
const MIN_SECRET_LENGTH = 4;
const secrets = new Set<string>();

/** Registers a value that must never appear in a log line. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

/** Registers every secret the configuration holds (API token, Feishu, Hermes and webhook secrets). */
export function registerConfigSecrets(config: Config): void {
  registerSecret(config.api.token);
  registerSecret(config.temporal.apiKey);
  registerSecret(config.notifiers.feishu.appSecret);
  registerSecret(config.notifiers.feishu.encryptKey);
  registerSecret(config.notifiers.feishu.verificationToken);
  registerSecret(config.notifiers.hermes.secret);
  registerSecret(config.notifiers.webhook.secret);
  for (const url of [config.mongo.uri, config.notifiers.hermes.url, ...Object.values(config.notifiers.hermes.routes)]) {
    for (const password of urlPasswords(url)) registerSecret(password);
  }
}

/** For tests: forget the registered secrets. */
export function clearSecrets(): void {
  secrets.clear();
}

const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|.*(token|secret|password|passwd)s?)$/i;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]+):([^\s/@]+)@/gi;

/** Removes registered secrets, bearer/basic credentials and URL passwords from a string. */
export function redactText(text: string): string {
  let out = text;
  // Longest first, so a secret containing another is removed whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  return out.replace(BEARER, `$1 ${REDACTED}`).replace(URL_CREDENTIALS, `$1$2:${REDACTED}@`);
}

/** A deep copy of `value` fit for a log: secret-named keys blanked, strings redacted, errors flattened. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? value.toString() : value;
  if (depth > 8) return '[too deep]';
  if (value instanceof Error) {
    const e: Record<string, unknown> = { type: value.name, message: redactText(value.message) };
    if (value.stack) e.stack = redactText(value.stack);
    const cause = (value as { cause?: unknown }).cause;
    if (cause !== undefined) e.cause = redactValue(cause, depth + 1);
    return e;
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null && v !== '' ? REDACTED : redactValue(v, depth + 1);
  }
  return out;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = SEVERITY[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const make = (base: LogContext): Logger => {
    const emit = (level: LogLevel, msg: string, context?: LogContext) => {
      if (SEVERITY[level] < threshold) return;
      const fields = { ...base, ...context };
      const line = { time: new Date().toISOString(), level, msg, ...fields };
      let text: string;
      try {
        text = JSON.stringify(redactValue(line));
      } catch {
        text = JSON.stringify({
          time: line.time,
          level,
          msg: redactText(msg),
          log_error: 'context could not be serialised',
        });
      }
      write(`${text}\n`);
    };
    return {
      debug: (msg, context) => emit('debug', msg, context),
      info: (msg, context) => emit('info', msg, context),
      warn: (msg, context) => emit('warn', msg, context),
      error: (msg, context) => emit('error', msg, context),
      child: (context) => make({ ...base, ...context }),
    };
  };
  return make(options.context ?? {});
}

/** A logger that drops everything (tests, libraries called without one). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

const FROM_TEMPORAL: Record<TemporalLogLevel, LogLevel> = {
  TRACE: 'debug',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * A Temporal SDK `Logger` (what `Runtime.install({ logger })` and `DefaultLogger` users expect) that
 * writes the same JSON lines. Workflow and activity log metadata carry `workflowId`, which IS the
 * task_id, so it is surfaced as `task_id` for grepping one task across worker and API logs.
 */
export function createTemporalLogger(logger: Logger): TemporalLogger {
  const log = (level: TemporalLogLevel, message: string, meta?: LogMetadata) => {
    const context: LogContext = {};
    // Symbol keys (e.g. the SDK's LogTimestamp) are internal; our own `time` is what readers use.
    for (const [k, v] of Object.entries(meta ?? {})) context[k] = v;
    if (typeof context.workflowId === 'string' && context.task_id === undefined) context.task_id = context.workflowId;
    logger[FROM_TEMPORAL[level] ?? 'info'](message, { source: 'temporal', ...context });
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
/** `url` with the password of a `scheme://user:password@host` URL replaced by ***, for display. */
export function hideUrlPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^\s/@:]+):[^\s/@]+@/i, '$1:***@');
}

/** The password of a `scheme://user:password@host` URL, as written and percent-decoded. */
function urlPasswords(url: string | undefined): string[] {
  const m = url ? /^[a-z][a-z0-9+.-]*:\/\/[^\s/@:]+:([^\s/@]+)@/i.exec(url) : null;
  if (!m) return [];
  try {
    return [m[1]!, decodeURIComponent(m[1]!)];
  } catch {
    return [m[1]!];
  }
}
