// The bridge on a production-shaped Temporal: temporal-server (all four services) on PostgreSQL,
// mTLS on the frontend with certificates made for this run. `codex-bridge init` sets the new
// cluster's namespace up; `doctor` tells wrong, missing and right certificates apart; three worker
// processes share the tasks, one is SIGKILLed mid-run, and every task still ends and is told once.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from '@temporalio/worker';
import type { DoctorCheck } from '../../src/doctor';
import { SEARCH_ATTRIBUTES } from '../../src/infra/tool-paths';
import { startTemporalCluster, type RunningCluster } from '../support/cluster/temporal-cluster';
import { bundleTaskWorkflows } from '../support/workflow-bundle';
import { cli, onlyJson } from '../interfaces/support/run-cli';
import { readInboxLines, type InboxLine } from '../../activities/notify/local-notifier';
import { describeReport, FaultEnv, sleep } from '../faults/support/fault-env';
import { createE2eHarness, eventually, type E2eHarness, type InProcessWorker } from '../e2e/support/e2e-harness';

const NAMESPACE = 'codex-bridge';
let cluster: RunningCluster;
let scratch: string;

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(process.env.CODEX_BRIDGE_TEST_SCRATCH ?? os.tmpdir(), 'cluster-'));
  cluster = await startTemporalCluster({ dir: scratch });
});

afterAll(async () => {
  await cluster?.stop();
  if (scratch && !process.env.CODEX_BRIDGE_KEEP_TEST_FILES) fs.rmSync(scratch, { recursive: true, force: true });
});

const bridgeEnv = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...cluster.env, TEMPORAL_NAMESPACE: NAMESPACE, ...extra };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return env;
};

test('codex-bridge init registers the namespace and its search attributes on the new cluster, then finds them present', async () => {
  const first = await cli(['init'], { env: bridgeEnv() });
  expect(first.stderr).toBe('');
  expect(first.stdout).toBe(
    `${NAMESPACE}: registered the namespace; added search attributes ${SEARCH_ATTRIBUTES.join(', ')}\n`,
  );
  expect(first.code).toBe(0);
  const again = await cli(['init', '--json'], { env: bridgeEnv() });
  expect(onlyJson(again)).toEqual({
    namespace: NAMESPACE,
    registered: false,
    added: [],
    present: [...SEARCH_ATTRIBUTES],
  });
});

describe('codex-bridge doctor against the mTLS frontend', () => {
  const temporalLines = async (env: NodeJS.ProcessEnv): Promise<DoctorCheck[]> => {
    const run = await cli(['doctor', '--json'], { env });
    return (onlyJson(run) as { checks: DoctorCheck[] }).checks.filter(
      (c) => c.name === 'temporal' || c.name === 'search attributes',
    );
  };

  test('the right certificates: ok, over TLS with a client certificate, and the search attributes are there', async () => {
    expect(await temporalLines(bridgeEnv())).toEqual([
      {
        name: 'temporal',
        ok: true,
        message: `${cluster.address} over TLS (client certificate, private CA, server name localhost), namespace ${NAMESPACE}, task queue codex-bridge`,
      },
      { name: 'search attributes', ok: true, message: `${SEARCH_ATTRIBUTES.join(', ')} are registered` },
    ]);
  });

  test.each([
    [
      'no client certificate',
      { TEMPORAL_TLS_CERT_FILE: undefined, TEMPORAL_TLS_KEY_FILE: undefined },
      /requires a client certificate \(.*TLS handshake: tlsv13 alert certificate required\): set TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE$/,
    ],
    [
      'a client certificate from another CA',
      'other-client',
      /rejected the client certificate in TEMPORAL_TLS_CERT_FILE \(.*TLS handshake: tlsv1 alert unknown ca\): use a certificate signed by the CA the server trusts for clients$/,
    ],
    [
      'the wrong server CA',
      { TEMPORAL_TLS_CA_FILE: 'other-ca' },
      /presented a certificate this client does not trust \(.*TLS handshake: unable to verify the first certificate\): set TEMPORAL_TLS_CA_FILE to the CA that signed the server's certificate$/,
    ],
    ['no TLS at all', 'plain', /requires TLS \(.*the server speaks TLS\): set TEMPORAL_TLS=true/],
  ] as const)('%s: one FAIL sentence saying what to fix', async (_what, change, pattern) => {
    const certs = cluster.certs;
    const extra: Record<string, string | undefined> =
      change === 'other-client'
        ? { TEMPORAL_TLS_CERT_FILE: certs.otherClientCert, TEMPORAL_TLS_KEY_FILE: certs.otherClientKey }
        : change === 'plain'
          ? {
              TEMPORAL_TLS_CA_FILE: undefined,
              TEMPORAL_TLS_CERT_FILE: undefined,
              TEMPORAL_TLS_KEY_FILE: undefined,
              TEMPORAL_TLS_SERVER_NAME: undefined,
            }
          : 'TEMPORAL_TLS_CA_FILE' in change
            ? { TEMPORAL_TLS_CA_FILE: certs.otherCa }
            : change;
    const lines = await temporalLines(bridgeEnv(extra));
    expect(lines).toHaveLength(1); // one cause, one line: no search-attribute line without a connection
    expect(lines[0]!.ok).toBe(false);
    expect(lines[0]!.message.split('\n')).toHaveLength(1);
    expect(lines[0]!.message).toMatch(pattern);
  });
});

test('three workers on the cluster, one SIGKILLed mid-run: every task ends and every chat is told exactly once', async () => {
  // A namespace of its own, set up by the three workers as they start, all at once.
  const temporalEnv = { ...cluster.env, CODEX_BRIDGE_REGISTER_SEARCH_ATTRIBUTES: 'true' };
  const env = await FaultEnv.start('cluster', {
    model: { delayMs: 2000 },
    heartbeatTimeoutMs: 5000,
    temporalEnv,
    namespace: 'fleet',
  });
  try {
    const workers = [env.startWorker('worker-a'), env.startWorker('worker-b'), env.startWorker('worker-c')];
    const ready = Date.now() + 60_000;
    for (;;) {
      const listed = await env.connection.operatorService
        .listSearchAttributes({ namespace: 'fleet' })
        .catch(() => undefined);
      if (listed && SEARCH_ATTRIBUTES.every((name) => name in (listed.customAttributes ?? {}))) break;
      if (Date.now() > ready) throw new Error(`the workers did not set namespace fleet up:\n${env.workerLogTails()}`);
      await sleep(250);
    }
    const ids: string[] = [];
    const arrivals = env.startArrivals('cluster', 30, 250, ids, (i) => (i % 3 === 0 ? 'hermes' : 'feishu'));

    // Kill worker-a once it has finished turns of its own and holds more in flight (bounded wait).
    await env.waitUntilMidRun('worker-a', ids);
    env.log(`killing worker-a with ${env.appServersOf('worker-a')} turns in flight`);
    await env.killWorker(workers[0]!);

    await arrivals;
    await env.waitForTerminal(ids, 5 * 60_000);
    const report = await env.verifyNothingLost(ids);
    env.log(describeReport(report));
    expect(report.byStatus).toEqual({ completed: ids.length });
    const finishedBy = new Set([...report.outcomes.values()].map((o) => o.codexWorker));
    expect(finishedBy).toEqual(new Set(['worker-a', 'worker-b', 'worker-c']));
    // What worker-a held when it died was retried by a survivor.
    expect(
      [...report.outcomes.values()].filter((o) => o.codexAttempt > 1 && o.codexWorker !== 'worker-a').length,
    ).toBeGreaterThanOrEqual(1);
    await env.expectNoAppServersLeft();
  } finally {
    await env.close();
  }
});

describe('the end-to-end core cases on the cluster (real codex binary, scripted model)', () => {
  let h: E2eHarness;
  let worker: InProcessWorker;
  const finished: string[] = [];
  const inbox = async (taskId: string): Promise<InboxLine[]> =>
    (await readInboxLines(h.config.notifiers.localInbox)).filter((l) => l.task_id === taskId);

  beforeAll(async () => {
    expect((await cli(['init'], { env: bridgeEnv() })).code).toBe(0);
    h = await createE2eHarness({ env: bridgeEnv(), workflowInput: { heartbeat_timeout_ms: 8000 } });
    worker = await h.startWorker();
  });
  afterAll(async () => {
    await worker?.stop();
    await h?.close();
  });

  test('start → completed, told once, found through its search attributes in PostgreSQL visibility', async () => {
    const route = h.model.route('complete', [
      { items: [{ type: 'message', text: 'All done.', phase: 'final_answer' }] },
    ]);
    const { task_id } = await h.service.start({
      prompt: `Say done ${route.tag}`,
      cwd: h.workdir('complete'),
      notify_target: 'local',
    });
    const final = await h.result(task_id);
    finished.push(task_id);
    expect(final).toMatchObject({
      status: 'completed',
      notification_status: 'sent',
      notification_attempts: 1,
      result: { final_message: 'All done.' },
    });
    expect((await inbox(task_id)).map((l) => [l.kind, l.idempotency_key])).toEqual([
      ['completion', `${task_id}:turn-1:completion`],
    ]);
    const found = await eventually(
      async () => {
        const ids: string[] = [];
        for await (const w of h.client.workflow.list({
          query: `NotificationStatus="sent" AND CodexTaskStatus="completed" AND WorkflowId="${task_id}"`,
        }))
          ids.push(w.workflowId);
        return ids;
      },
      (ids) => ids.length === 1,
      20_000,
      'the task in visibility by its search attributes',
    );
    expect(found).toEqual([task_id]);
    expect(await h.store.get(task_id)).toEqual(final);
  });

  test('approve: the person is asked once, accept runs the command, the task completes and is told once', async () => {
    const cwd = h.workdir('approve');
    const cmd = 'echo hello > out.txt && cat out.txt';
    const route = h.model.route('approve', [
      { items: [{ type: 'exec_command', cmd, callId: 'call_accept' }] },
      { items: [{ type: 'message', text: 'Wrote out.txt.', phase: 'final_answer' }] },
    ]);
    const { task_id } = await h.service.start({
      prompt: `Write hello to out.txt ${route.tag}`,
      cwd,
      notify_target: 'local',
      approval_policy: 'untrusted',
    });
    const waiting = await h.waitFor(
      task_id,
      (d) => d.status === 'waiting_for_input' && d.pending_requests.length === 1,
    );
    const request = waiting.pending_requests[0]!;
    await eventually(
      () => inbox(task_id),
      (lines) => lines.some((l) => l.kind === 'request'),
      20_000,
      'the approval message',
    );
    expect(fs.existsSync(path.join(cwd, 'out.txt'))).toBe(false);
    await h.service.approve(task_id, request.request_id, 'accept');
    const final = await h.result(task_id);
    finished.push(task_id);
    expect(final.status).toBe('completed');
    expect(fs.readFileSync(path.join(cwd, 'out.txt'), 'utf8')).toBe('hello\n');
    expect((await inbox(task_id)).map((l) => l.kind)).toEqual(['request', 'completion']);
    expect(await h.store.get(task_id)).toEqual(final);
  });

  test('cancel: the running turn is interrupted, the task ends cancelled and is told once', async () => {
    const route = h.model.route('cancel', [
      { items: [{ type: 'exec_command', cmd: 'sleep 60', callId: 'call_sleep' }] },
      { items: [{ type: 'message', text: 'never reached', phase: 'final_answer' }] },
    ]);
    const { task_id } = await h.service.start({
      prompt: `Sleep a minute ${route.tag}`,
      cwd: h.workdir('cancel'),
      notify_target: 'local',
      sandbox: 'danger-full-access',
      approval_policy: 'never',
    });
    await route.waitForRequests(1);
    await h.waitFor(task_id, (d) => d.status === 'running');
    await sleep(1000); // the command is running
    await h.service.cancel(task_id);
    const final = await h.result(task_id, 60_000);
    finished.push(task_id);
    expect(final.status).toBe('cancelled');
    expect(final.notification_status).toBe('sent');
    expect((await inbox(task_id)).map((l) => l.kind)).toEqual(['completion']);
    expect(await h.store.get(task_id)).toEqual(final);
  });

  test('the histories recorded on the cluster replay against the workflow code', async () => {
    expect(finished).toHaveLength(3);
    const workflowBundle = await bundleTaskWorkflows();
    for (const id of finished) {
      const history = await h.client.workflow.getHandle(id).fetchHistory();
      await expect(Worker.runReplayHistory({ workflowBundle, replayName: id }, history, id)).resolves.toBeUndefined();
    }
  });
});
