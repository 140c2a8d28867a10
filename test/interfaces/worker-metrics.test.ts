// `codex-bridge worker` with CODEX_BRIDGE_METRICS_ADDR serves one /metrics with the bridge's own
// series and the Temporal SDK's, and logs JSON lines. Runs the real CLI as a child process.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createTaskService } from '../../src/client/task-service';
import { freePort } from '../../src/infra/free-port';
import { PROJECT_ROOT } from '../../src/infra/tool-paths';
import { signalGroup } from '../../src/infra/managed-process';
import { mockProviderOverrides } from '../support/codex-env';
import { makeTestEnv } from '../support/test-env';

test('the worker exposes bridge and Temporal SDK metrics and counts a finished task', async () => {
  const closedPort = await freePort(); // nothing listens: the turn fails fast, without a model
  const metricsPort = await freePort();
  const t = makeTestEnv({
    CODEX_HOME: '',
    CODEX_BRIDGE_CODEX_CONFIG: JSON.stringify(mockProviderOverrides(`http://127.0.0.1:${closedPort}/v1`)),
    CODEX_BRIDGE_METRICS_ADDR: `127.0.0.1:${metricsPort}`,
    CODEX_BRIDGE_API_TOKEN: 'metrics-test-token-123',
  });
  const codexHome = path.join(t.scratch, 'codex-home');
  fs.mkdirSync(codexHome);
  const env = { ...process.env, ...t.env, CODEX_HOME: codexHome };
  const worker = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'codex-bridge.js'), 'worker'], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  worker.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const { service, close } = await createTaskService({ ...t.config, codex: { ...t.config.codex, home: codexHome } });
  try {
    const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    let text = '';
    for (let i = 0; i < 100 && !text.includes('codex_bridge_tasks_total'); i += 1) {
      text = await scrape().catch(() => '');
      await new Promise((r) => setTimeout(r, 200));
    }
    const task = await service.start({ prompt: 'hello', cwd: t.scratch });
    let doc = await service.status(task.task_id);
    for (let i = 0; i < 300 && doc.notification_status !== 'no_target'; i += 1) {
      await new Promise((r) => setTimeout(r, 200));
      doc = await service.status(task.task_id);
    }
    expect(doc.status).toBe('failed');
    text = await scrape();
    expect(text).toMatch(/^codex_bridge_tasks_total\{status="failed"\} 1$/m);
    expect(text).toMatch(/^# TYPE codex_bridge_notification_latency_seconds histogram$/m);
    expect(text).toMatch(/^temporal_[a-z_]+/m); // the SDK's own series, appended
    // Structured JSON lines, and the API token never appears.
    const lines = stderr.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(stderr).not.toContain('metrics-test-token-123');
  } finally {
    await close();
    signalGroup(worker.pid!, 'SIGTERM');
    await new Promise((r) => worker.once('exit', r));
  }
});
