// Prometheus metrics of the bridge itself. The Temporal SDK serves its own worker metrics on a
// separate port (Runtime telemetry); /metrics here appends that text so one scrape sees both.
import * as http from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ConfigError } from './config';
import { httpUrl, isLoopbackHost, parseHostPort } from './api/bind-address';
import { silentLogger, type Logger } from './logging';

export interface BridgeMetrics {
  registry: Registry;
  /** Terminal tasks by status (completed, failed, cancelled, timed_out). */
  tasksTotal: Counter<'status'>;
  /** Delivery attempts that ended, by outcome (sent, failed, duplicate…) and channel (local, feishu, hermes, webhook). */
  notificationsTotal: Counter<'outcome' | 'channel'>;
  /** Seconds from a task reaching its terminal status to the notification being delivered. */
  notificationLatencySeconds: Histogram<'channel'>;
  /** HTTP API answers by route pattern and status code. */
  httpRequestsTotal: Counter<'method' | 'route' | 'status'>;
}

export function createBridgeMetrics(
  options: { registry?: Registry; collectProcessMetrics?: boolean } = {},
): BridgeMetrics {
  const registry = options.registry ?? new Registry();
  if (options.collectProcessMetrics) collectDefaultMetrics({ register: registry, prefix: 'codex_bridge_' });
  return {
    registry,
    tasksTotal: new Counter({
      name: 'codex_bridge_tasks_total',
      help: 'Tasks that reached a terminal status, by status.',
      labelNames: ['status'],
      registers: [registry],
    }),
    notificationsTotal: new Counter({
      name: 'codex_bridge_notifications_total',
      help: 'Notification deliveries that ended, by outcome and channel.',
      labelNames: ['outcome', 'channel'],
      registers: [registry],
    }),
    notificationLatencySeconds: new Histogram({
      name: 'codex_bridge_notification_latency_seconds',
      help: 'Seconds from task completion to notification delivery.',
      labelNames: ['channel'],
      buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
      registers: [registry],
    }),
    httpRequestsTotal: new Counter({
      name: 'codex_bridge_http_requests_total',
      help: 'HTTP API responses, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
  };
}

let processMetrics: BridgeMetrics | undefined;

/** The process-wide metrics (worker, API and dev launcher in one process share them). */
export function getBridgeMetrics(): BridgeMetrics {
  processMetrics ??= createBridgeMetrics({ collectProcessMetrics: true });
  return processMetrics;
}

export interface MetricsServerOptions {
  /** The Temporal SDK's Prometheus endpoint (e.g. http://127.0.0.1:9465/metrics), appended to /metrics. */
  alsoScrape?: string;
  metrics?: BridgeMetrics;
  logger?: Logger;
  /** How long to wait for `alsoScrape`; default 2000 ms. */
  scrapeTimeoutMs?: number;
}

export interface RunningMetricsServer {
  url: string;
  close(): Promise<void>;
}

/** Serves GET /metrics on a loopback host:port (port 0 picks a free one). Metrics have no auth, hence loopback only. */
export async function startMetricsServer(
  addr: string,
  options: MetricsServerOptions = {},
): Promise<RunningMetricsServer> {
  const { host, port } = parseHostPort(addr);
  if (!isLoopbackHost(host)) {
    throw new ConfigError(
      `CODEX_BRIDGE_METRICS_ADDR is invalid ("${addr}"): metrics are served without authentication, so bind them to a loopback address such as 127.0.0.1:9464.`,
    );
  }
  const metrics = options.metrics ?? getBridgeMetrics();
  const logger = options.logger ?? silentLogger;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if ((req.method !== 'GET' && req.method !== 'HEAD') || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
      return;
    }
    renderMetrics(metrics.registry, options.alsoScrape, options.scrapeTimeoutMs ?? 2000).then(
      (text) =>
        res
          .writeHead(200, { 'content-type': metrics.registry.contentType })
          .end(req.method === 'HEAD' ? undefined : text),
      (error: unknown) => {
        logger.error('metrics could not be rendered', { error });
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics could not be rendered\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as import('node:net').AddressInfo;
  return {
    url: `${httpUrl(host, bound.port)}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Our registry's text, then the Temporal SDK's (or a comment saying why it is missing). */
export async function renderMetrics(
  registry: Registry,
  alsoScrape: string | undefined,
  timeoutMs = 2000,
): Promise<string> {
  const own = await registry.metrics();
  if (!alsoScrape) return own;
  try {
    const res = await fetch(alsoScrape, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const text = await res.text();
    return `${own.trimEnd()}\n${text.endsWith('\n') ? text : `${text}\n`}`;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return `${own.trimEnd()}\n# codex-bridge: the Temporal SDK metrics at ${alsoScrape} could not be read (${why.replace(/\s+/g, ' ')})\n`;
  }
}
