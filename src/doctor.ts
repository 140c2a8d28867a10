// `codex-bridge doctor`: is everything the bridge needs reachable and configured? One line per
// check, "ok …" or "FAIL …: how to fix". Checks run side by side, each with its own deadline, so a
// dead server costs seconds, not minutes.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isLoopbackHost, parseHostPort } from './api/bind-address';
import type { Config } from './config';
import { SEARCH_ATTRIBUTES } from './infra/tool-paths';
import { hideUrlPassword } from './logging';
import {
  describeTemporalSecurity,
  explainConnectFailure,
  temporalConnectionOptions,
} from './infra/temporal-connection';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  message: string;
}

export interface DoctorOptions {
  /** Deadline of each network check; default 3000 ms. */
  timeoutMs?: number;
  /** Deadline of `codex --version` (a cold start of the binary can take a while); default 15000 ms. */
  codexTimeoutMs?: number;
}

type Check = () => Promise<DoctorCheck | DoctorCheck[]>;

/** Runs every check; never throws (a crashing check is reported as its own FAIL line). */
export async function runDoctor(config: Config, options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const timeoutMs = options.timeoutMs ?? 3000;
  // Load the clients first: loading them blocks the event loop for a moment, which must not eat
  // into (or, by delaying timers, fire) the deadlines below.
  await Promise.all([import('@temporalio/client'), import('mongodb'), import('../activities/codex/codex-binary')]);
  const checks: [string, Check, number][] = [
    ['temporal', () => checkTemporal(config, timeoutMs), timeoutMs * 3 + 1000],
    ['store', () => checkStore(config, timeoutMs), timeoutMs + 2000],
    ['codex', () => checkCodex(config, options.codexTimeoutMs ?? 15_000), (options.codexTimeoutMs ?? 15_000) + 1000],
    ['api', async () => checkApi(config), 1000],
    ['local inbox', async () => checkLocalInbox(config), 1000],
    ['feishu', () => checkFeishu(config, timeoutMs), timeoutMs + 1000],
    ['hermes', () => checkHermes(config, timeoutMs), timeoutMs + 1000],
    ['webhook', async () => checkWebhook(config), 1000],
  ];
  const results = await Promise.all(
    checks.map(async ([name, check, deadline]) => {
      try {
        return await withDeadline(check(), deadline, `${name}: the check did not finish within ${deadline / 1000} s`);
      } catch (error) {
        return fail(name, `${errorText(error)}: run doctor again, and report this if it persists`);
      }
    }),
  );
  return results.flat();
}

/** "ok   temporal: …" or "FAIL temporal: …". */
export function formatDoctorLine(check: DoctorCheck): string {
  return `${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.message}`;
}

// ---- Temporal ----

export async function checkTemporal(config: Config, timeoutMs: number): Promise<DoctorCheck[]> {
  const { address, namespace } = config.temporal;
  const { Connection } = await import('@temporalio/client');
  let connection: import('@temporalio/client').Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(config.temporal), connectTimeout: timeoutMs });
  } catch (error) {
    return [fail('temporal', await explainConnectFailure(config.temporal, error))];
  }
  try {
    const deadline = () => Date.now() + timeoutMs;
    try {
      await connection.withDeadline(deadline(), () => connection.workflowService.describeNamespace({ namespace }));
    } catch (error) {
      if (grpcCode(error) === 5) {
        return [
          fail(
            'temporal',
            `namespace "${namespace}" does not exist on ${address}: create it with \`temporal operator namespace create --namespace ${namespace}\`, or set TEMPORAL_NAMESPACE`,
          ),
        ];
      }
      return [
        fail(
          'temporal',
          `Temporal at ${address} did not describe namespace "${namespace}" (${errorText(error)}): check that the server is healthy`,
        ),
      ];
    }
    const result: DoctorCheck[] = [
      pass(
        'temporal',
        `${address} over ${describeTemporalSecurity(config.temporal)}, namespace ${namespace}, task queue ${config.temporal.taskQueue}`,
      ),
    ];
    try {
      const { customAttributes } = await connection.withDeadline(deadline(), () =>
        connection.operatorService.listSearchAttributes({ namespace }),
      );
      const missing = SEARCH_ATTRIBUTES.filter((name) => !customAttributes || !(name in customAttributes));
      result.push(
        missing.length === 0
          ? pass('search attributes', `${SEARCH_ATTRIBUTES.join(', ')} are registered`)
          : fail(
              'search attributes',
              `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not registered in namespace ${namespace}: run \`codex-bridge init\`, or ${missing
                .map(
                  (name) =>
                    `\`temporal operator search-attribute create --namespace ${namespace} --name ${name} --type Keyword\``,
                )
                .join(' and ')}`,
            ),
      );
    } catch (error) {
      result.push(
        fail('search attributes', `could not list them (${errorText(error)}): check that the server is healthy`),
      );
    }
    return result;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

// ---- Store ----

export async function checkStore(config: Config, timeoutMs: number): Promise<DoctorCheck> {
  const shown = hideUrlPassword(config.mongo.uri);
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(config.mongo.uri, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
  });
  try {
    await client.connect();
    await client.db(config.mongo.db).command({ ping: 1 });
    return pass('store', `${shown}, database ${config.mongo.db}`);
  } catch (error) {
    return fail(
      'store',
      `cannot reach the store at ${shown} (${errorText(error)}): start it with \`codex-bridge dev\`, or set MONGODB_URI to a running MongoDB`,
    );
  } finally {
    await client.close().catch(() => undefined);
  }
}

// ---- Codex ----

export async function checkCodex(config: Config, timeoutMs: number): Promise<DoctorCheck> {
  let bin: string;
  try {
    const { bundledCodexBinary } = await import('../activities/codex/codex-binary');
    bin = config.codex.bin ?? bundledCodexBinary();
  } catch (error) {
    return fail('codex', `${errorText(error)}`);
  }
  const fix = config.codex.bin
    ? 'set CODEX_BIN to a working codex binary, or unset it to use the @openai/codex dependency'
    : 'run ./scripts/setup (npm ci) to install @openai/codex, or set CODEX_BIN';
  return new Promise((resolve) => {
    execFile(
      bin,
      ['--version'],
      { timeout: timeoutMs, env: { ...process.env, ...(config.codex.home ? { CODEX_HOME: config.codex.home } : {}) } },
      (error, stdout) => {
        if (error) {
          const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorText(error);
          resolve(fail('codex', `${bin} --version failed (${why}): ${fix}`));
          return;
        }
        resolve(pass('codex', `${stdout.trim().split('\n')[0] || 'codex'} (${bin})`));
      },
    );
  });
}

// ---- The API's exposure ----

export function checkApi(config: Config): DoctorCheck {
  const { host } = parseHostPort(config.api.addr);
  if (config.api.token) return pass('api', `${config.api.addr}, bearer token set`);
  if (isLoopbackHost(host))
    return pass('api', `${config.api.addr}, loopback only, no token (set CODEX_BRIDGE_API_TOKEN before exposing it)`);
  return fail(
    'api',
    `${config.api.addr} is reachable from other machines but CODEX_BRIDGE_API_TOKEN is not set: set a token, or bind CODEX_BRIDGE_API_ADDR to 127.0.0.1`,
  );
}

// ---- Notifiers ----

export function checkLocalInbox(config: Config): DoctorCheck {
  const file = config.notifiers.localInbox;
  try {
    if (fs.existsSync(file)) {
      fs.accessSync(file, fs.constants.W_OK);
      return pass('local inbox', `${file} is writable`);
    }
    // The notifier creates missing directories; what matters is that it may.
    let dir = path.dirname(file);
    while (!fs.existsSync(dir)) dir = path.dirname(dir);
    fs.accessSync(dir, fs.constants.W_OK);
    if (!fs.statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
    return pass('local inbox', `${file} will be created on the first local notification`);
  } catch (error) {
    return fail(
      'local inbox',
      `${file} is not writable (${errorText(error)}): fix its permissions, or set CODEX_BRIDGE_LOCAL_INBOX to a writable file`,
    );
  }
}

export async function checkFeishu(config: Config, timeoutMs: number): Promise<DoctorCheck> {
  const { appId, appSecret, baseUrl } = config.notifiers.feishu;
  if (!appId || !appSecret)
    return pass('feishu', 'not configured (feishu: targets need FEISHU_APP_ID and FEISHU_APP_SECRET)');
  const url = `${baseUrl}/open-apis/auth/v3/tenant_access_token/internal`;
  let body: { code?: unknown; msg?: unknown };
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ app_id: appId, app_secret: appSecret }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = (await res.json().catch(() => ({ code: `HTTP ${res.status}`, msg: 'not JSON' }))) as typeof body;
  } catch (error) {
    return fail('feishu', `cannot reach ${baseUrl} (${errorText(error)}): check FEISHU_BASE_URL and the network`);
  }
  if (body.code === 0) return pass('feishu', `app ${appId} got a tenant access token from ${baseUrl}`);
  return fail(
    'feishu',
    `${baseUrl} refused app ${appId} (code ${String(body.code)}: ${String(body.msg ?? '')}): check FEISHU_APP_ID and FEISHU_APP_SECRET`,
  );
}

export async function checkHermes(config: Config, timeoutMs: number): Promise<DoctorCheck[]> {
  const { url, secret, routes } = config.notifiers.hermes;
  const endpoints: [string, string][] = [
    ...(url ? [['hermes', url] as [string, string]] : []),
    ...Object.entries(routes).map(([p, u]) => [`hermes ${p}`, u] as [string, string]),
  ];
  if (endpoints.length === 0)
    return [pass('hermes', 'not configured (hermes: targets need HERMES_WEBHOOK_URL and HERMES_WEBHOOK_SECRET)')];
  if (!secret)
    return [fail('hermes', 'HERMES_WEBHOOK_SECRET is not set: set it to the HMAC secret of the Hermes webhook route')];
  return Promise.all(
    endpoints.map(async ([name, endpoint]): Promise<DoctorCheck> => {
      const shown = endpoint.replace(/[?#].*$/, '');
      try {
        // Any HTTP answer (even 404/405 to a GET) proves the gateway listens; delivery itself is signed.
        const res = await fetch(endpoint, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
        await res.body?.cancel().catch(() => undefined);
        return pass(name, `${shown} answers (HTTP ${res.status}), secret set`);
      } catch (error) {
        return fail(
          name,
          `${shown} does not answer (${errorText(error)}): start the Hermes gateway with its webhook route, or fix HERMES_WEBHOOK_URL`,
        );
      }
    }),
  );
}

export function checkWebhook(config: Config): DoctorCheck {
  return config.notifiers.webhook.secret
    ? pass('webhook', 'webhook: targets are signed with CODEX_BRIDGE_WEBHOOK_SECRET')
    : pass(
        'webhook',
        'CODEX_BRIDGE_WEBHOOK_SECRET is not set, so webhook: targets get unsigned requests (set it if receivers verify signatures)',
      );
}

// ---- helpers ----

const pass = (name: string, message: string): DoctorCheck => ({ name, ok: true, message });
const fail = (name: string, message: string): DoctorCheck => ({ name, ok: false, message });

function errorText(error: unknown): string {
  const e = error as { message?: unknown; cause?: { message?: unknown; code?: unknown } };
  const base = typeof e?.message === 'string' ? e.message : String(error);
  // fetch() hides the useful part ("ECONNREFUSED") in its cause.
  const cause =
    e?.cause && typeof e.cause.message === 'string' && e.cause.message !== base ? `: ${e.cause.message}` : '';
  const text = `${base}${cause}`.replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}
async function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
