// /metrics: the bridge's own series, the Temporal SDK's appended, loopback only.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../../src/config';
import { createBridgeMetrics, startMetricsServer, type RunningMetricsServer } from '../../src/metrics';

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(...args: Parameters<typeof startMetricsServer>): Promise<RunningMetricsServer> {
  const server = await startMetricsServer(...args);
  servers.push(server);
  return server;
}

/** A stand-in for the SDK's Prometheus endpoint. */
async function fakeSdkEndpoint(text: string): Promise<string> {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(text));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({ close: () => new Promise((r) => server.close(() => r())) });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

test('serves the bridge metrics as Prometheus text', async () => {
  const metrics = createBridgeMetrics();
  metrics.tasksTotal.inc({ status: 'completed' });
  metrics.tasksTotal.inc({ status: 'completed' });
  metrics.tasksTotal.inc({ status: 'failed' });
  metrics.notificationsTotal.inc({ outcome: 'sent', channel: 'feishu' });
  metrics.notificationLatencySeconds.observe({ channel: 'feishu' }, 1.5);
  const server = await start('127.0.0.1:0', { metrics });
  expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const res = await fetch(server.url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await res.text();
  expect(text).toContain('codex_bridge_tasks_total{status="completed"} 2');
  expect(text).toContain('codex_bridge_tasks_total{status="failed"} 1');
  expect(text).toContain('codex_bridge_notifications_total{outcome="sent",channel="feishu"} 1');
  expect(text).toContain('codex_bridge_notification_latency_seconds_bucket{le="2",channel="feishu"} 1');
  expect(text).toContain('codex_bridge_notification_latency_seconds_count{channel="feishu"} 1');
});

test('appends the Temporal SDK metrics when asked to', async () => {
  const sdk = await fakeSdkEndpoint(
    '# TYPE temporal_worker_task_slots_available gauge\ntemporal_worker_task_slots_available{worker_type="ActivityWorker"} 100\n',
  );
  const server = await start('127.0.0.1:0', { metrics: createBridgeMetrics(), alsoScrape: sdk });
  const text = await (await fetch(server.url)).text();
  expect(text).toContain('# TYPE codex_bridge_tasks_total counter');
  expect(text).toContain('temporal_worker_task_slots_available{worker_type="ActivityWorker"} 100');
});

test('an unreachable SDK endpoint leaves a comment, not an error', async () => {
  const server = await start('127.0.0.1:0', {
    metrics: createBridgeMetrics(),
    alsoScrape: 'http://127.0.0.1:1/metrics',
    scrapeTimeoutMs: 500,
  });
  const res = await fetch(server.url);
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).toContain('# TYPE codex_bridge_tasks_total counter');
  expect(text).toMatch(
    /^# codex-bridge: the Temporal SDK metrics at http:\/\/127\.0\.0\.1:1\/metrics could not be read/m,
  );
});

test('other paths are 404', async () => {
  const server = await start('127.0.0.1:0', { metrics: createBridgeMetrics() });
  expect((await fetch(server.url.replace('/metrics', '/'))).status).toBe(404);
});

test('refuses a non-loopback address (metrics have no authentication)', async () => {
  await expect(startMetricsServer('0.0.0.0:0', { metrics: createBridgeMetrics() })).rejects.toThrow(ConfigError);
  await expect(startMetricsServer('10.1.2.3:9464', { metrics: createBridgeMetrics() })).rejects.toThrow(
    /bind them to a loopback address/,
  );
});
