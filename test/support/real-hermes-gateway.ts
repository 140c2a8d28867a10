// The REAL Hermes gateway (PyPI hermes-agent, installed by `scripts/setup --test` into .tools/py)
// run as `hermes gateway run` with a private HERMES_HOME, its webhook platform configured with the
// deliver-only route exactly as integrations/hermes/README.md gives it (read from the README), and
// its Telegram platform pointed at a fake Bot API on 127.0.0.1 (test/support/fake-telegram.ts). A
// message the bridge posts to the route goes through Hermes's own signature check, idempotency
// cache, template rendering and Telegram adapter, and ends up (or not) in the fake Telegram.
//
//   const gw = await startRealHermesGateway();
//   createHermesNotifier({ url: gw.routeUrl, secret: gw.secret })   // what the bridge is given
//   gw.telegram.behave({ kind: 'slow', delayMs: 15_000, then: CHAT_NOT_FOUND }, 1)
//   gw.telegram.delivered('-100123'), gw.log(), await gw.stop()
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from '../../src/infra/free-port';
import { ManagedProcess } from '../../src/infra/managed-process';
import { PROJECT_ROOT, TOOLS_DIR } from '../../src/infra/tool-paths';
import { startFakeTelegram, type FakeTelegram } from './fake-telegram';

export const HERMES_CLI = path.join(TOOLS_DIR, 'py', 'bin', 'hermes');
export const HERMES_README = path.join(PROJECT_ROOT, 'integrations', 'hermes', 'README.md');
/** The route name integrations/hermes/README.md uses for Telegram. */
export const TELEGRAM_ROUTE = 'codex-bridge-telegram';

export interface RealHermesGatewayOptions {
  /** The routes' HMAC secret (HERMES_WEBHOOK_SECRET on the bridge). */
  secret?: string;
  /** Lines for HERMES_HOME/.env (e.g. HERMES_TELEGRAM_NOTIFICATIONS=all). */
  dotenv?: Record<string, string>;
  /** Merged into config.yaml at the top level (e.g. {display: {...}}). */
  extraConfig?: Record<string, unknown>;
  /** How long to wait for the gateway to come up (default 90 s; a cold start imports a lot). */
  startTimeoutMs?: number;
}

export interface RealHermesGateway {
  /** The gateway's webhook listener, http://127.0.0.1:PORT. */
  baseUrl: string;
  /** Full URL of the Telegram route: HERMES_WEBHOOK_URL (or HERMES_WEBHOOK_ROUTES.telegram). */
  routeUrl: string;
  secret: string;
  /** The fake Bot API the gateway's Telegram adapter talks to: messages, behave(), waits. */
  telegram: FakeTelegram;
  hermesHome: string;
  /** config.yaml as written. */
  config: Record<string, unknown>;
  /** The gateway's stdout+stderr and HERMES_HOME/logs so far. */
  log(): string;
  /** Resolves once the gateway has logged a line matching `pattern` (e.g. /direct-deliver target rejected/). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  pid: number | undefined;
  /** Stops the gateway (its whole process group), the fake Telegram, and removes HERMES_HOME. */
  stop(): Promise<void>;
}

/**
 * The webhook platform of integrations/hermes/README.md's config.yaml example, read from the README
 * itself so the tests run what users copy: its Telegram route unchanged, this run's port and secret.
 */
export function readmeWebhookPlatform(port: number, secret: string): Record<string, unknown> {
  const readme = fs.readFileSync(HERMES_README, 'utf8');
  for (const [, block] of readme.matchAll(/```yaml\n([\s\S]*?)```/g)) {
    const webhook = (
      parse(block!) as {
        platforms?: { webhook?: { enabled?: boolean; extra?: { routes?: Record<string, unknown> } } };
      } | null
    )?.platforms?.webhook;
    const route = webhook?.extra?.routes?.[TELEGRAM_ROUTE];
    if (!webhook || !route) continue;
    // Only the Telegram route: the example's other platforms are not connected in this gateway.
    return {
      ...webhook,
      extra: { ...webhook.extra, host: '127.0.0.1', port, secret, routes: { [TELEGRAM_ROUTE]: route } },
    };
  }
  throw new Error(
    `${path.relative(PROJECT_ROOT, HERMES_README)} has no config.yaml example with the ${TELEGRAM_ROUTE} route`,
  );
}

export async function startRealHermesGateway(options: RealHermesGatewayOptions = {}): Promise<RealHermesGateway> {
  if (!fs.existsSync(HERMES_CLI))
    throw new Error('hermes-agent is not installed in .tools/py: run ./scripts/setup --test');
  const secret = options.secret ?? 'real-hermes-test-secret';
  const telegram = await startFakeTelegram();
  const base = process.env.CODEX_BRIDGE_TEST_SCRATCH ?? os.tmpdir();
  const hermesHome = fs.mkdtempSync(path.join(base, 'hermes-home-'));
  let proc: ManagedProcess | undefined;
  const logFile = path.join(hermesHome, 'gateway.out');
  const log = () => {
    const parts = [readOr(logFile)];
    const logsDir = path.join(hermesHome, 'logs');
    if (fs.existsSync(logsDir))
      for (const f of fs.readdirSync(logsDir).sort())
        if (f.endsWith('.log')) parts.push(`--- logs/${f}\n${readOr(path.join(logsDir, f))}`);
    return parts.join('\n');
  };
  const stop = async () => {
    await proc?.stop(10_000);
    await telegram.stop();
    if (!process.env.CODEX_BRIDGE_KEEP_TEST_FILES) fs.rmSync(hermesHome, { recursive: true, force: true });
  };

  try {
    const port = await freePort();
    const config: Record<string, unknown> = {
      platforms: {
        webhook: readmeWebhookPlatform(port, secret),
        telegram: {
          enabled: true,
          token: telegram.token,
          extra: {
            base_url: telegram.baseUrl,
            // With no fallback IPs configured the adapter asks public DNS-over-HTTPS resolvers for
            // Telegram's addresses at startup; one configured address (never used: fallback
            // transport is disabled below) keeps it off the network.
            fallback_ips: ['149.154.167.220'],
          },
        },
      },
      ...options.extraConfig,
    };
    fs.writeFileSync(path.join(hermesHome, 'config.yaml'), stringify(config));
    const dotenv = { HERMES_TELEGRAM_DISABLE_FALLBACK_IPS: '1', ...options.dotenv };
    fs.writeFileSync(
      path.join(hermesHome, '.env'),
      Object.entries(dotenv)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
    );

    proc = new ManagedProcess({
      name: 'hermes-gateway',
      command: HERMES_CLI,
      args: ['gateway', 'run', '-v'],
      env: gatewayEnv(hermesHome),
      cwd: hermesHome,
      logFile,
    });
    const running = proc;
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitUntilReady(baseUrl, telegram, () => running.alive, options.startTimeoutMs ?? 90_000, log);

    return {
      baseUrl,
      routeUrl: `${baseUrl}/webhooks/${TELEGRAM_ROUTE}`,
      secret,
      telegram,
      hermesHome,
      config,
      log,
      async waitForLog(pattern, timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const line = log()
            .split('\n')
            .find((l) => pattern.test(l));
          if (line) return line;
          if (Date.now() > deadline)
            throw new Error(`the Hermes gateway logged nothing matching ${pattern} within ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      },
      pid: proc.pid,
      stop,
    };
  } catch (err) {
    const output = log();
    await stop();
    throw new Error(
      `${(err as Error).message}\n--- Hermes gateway output (last 4000 characters):\n${output.slice(-4000)}`,
      { cause: err },
    );
  }
}

/** The gateway's environment: its own HERMES_HOME, no proxies, nothing of the user's Hermes. */
function gatewayEnv(hermesHome: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(HERMES_|TELEGRAM_|WEBHOOK_)/.test(k) || /_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    HERMES_HOME: hermesHome,
    HOME: hermesHome,
    // The gateway locks a bot token machine-wide (XDG_STATE_HOME or ~/.local/state): keep it private.
    HERMES_GATEWAY_LOCK_DIR: path.join(hermesHome, 'locks'),
    PYTHONUNBUFFERED: '1',
    NO_COLOR: '1',
  };
}

/**
 * Ready = the webhook listener answers /health AND the Telegram adapter has connected and seen
 * getUpdates come back: until then its send path counts as degraded and a route delivering to
 * it answers 502, so the webhook alone is not enough.
 */
async function waitUntilReady(
  baseUrl: string,
  telegram: FakeTelegram,
  alive: () => boolean,
  timeoutMs: number,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const healthy = await fetch(`${baseUrl}/health`)
      .then((r) => r.ok)
      .catch(() => false);
    // Two answered polls: the adapter has certainly processed the first one.
    if (healthy && telegram.pollsAnswered >= 2 && /Connected to Telegram/.test(log())) return;
    if (!alive()) throw new Error('the Hermes gateway exited during startup');
    if (Date.now() > deadline)
      throw new Error(
        `the Hermes gateway was not ready within ${timeoutMs} ms (webhook /health ${healthy ? 'ok' : 'not answering'}; Bot API calls: ${telegram.calls.join(', ') || 'none'})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
