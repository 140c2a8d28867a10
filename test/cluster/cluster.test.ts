// The bridge on a production-shaped Temporal: temporal-server (all four services) on PostgreSQL,
// mTLS on the frontend with certificates made for this run. `codex-bridge init` sets the new
// cluster's namespace up; `doctor` tells wrong, missing and right certificates apart; three worker
// processes share the tasks, one is SIGKILLed mid-run, and every task still ends and is told once.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DoctorCheck } from '../../src/doctor';
import { SEARCH_ATTRIBUTES } from '../../src/infra/tool-paths';
import { startTemporalCluster, type RunningCluster } from '../support/cluster/temporal-cluster';
import { cli, onlyJson } from '../interfaces/support/run-cli';
import { describeReport, FaultEnv, sleep } from '../faults/support/fault-env';

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
  expect(first.stdout).toBe(`${NAMESPACE}: registered the namespace; added search attributes ${SEARCH_ATTRIBUTES.join(', ')}\n`);
  expect(first.code).toBe(0);
  const again = await cli(['init', '--json'], { env: bridgeEnv() });
  expect(onlyJson(again)).toEqual({ namespace: NAMESPACE, registered: false, added: [], present: [...SEARCH_ATTRIBUTES] });
});

describe('codex-bridge doctor against the mTLS frontend', () => {
  const temporalLines = async (env: NodeJS.ProcessEnv): Promise<DoctorCheck[]> => {
    const run = await cli(['doctor', '--json'], { env });
    return (onlyJson(run) as { checks: DoctorCheck[] }).checks.filter((c) => c.name === 'temporal' || c.name === 'search attributes');
  };

  test('the right certificates: ok, over TLS with a client certificate, and the search attributes are there', async () => {
    expect(await temporalLines(bridgeEnv())).toEqual([
      { name: 'temporal', ok: true, message: `${cluster.address} over TLS (client certificate, private CA, server name localhost), namespace ${NAMESPACE}, task queue codex-bridge` },
      { name: 'search attributes', ok: true, message: `${SEARCH_ATTRIBUTES.join(', ')} are registered` },
    ]);
  });

  test.each([
    ['no client certificate', { TEMPORAL_TLS_CERT_FILE: undefined, TEMPORAL_TLS_KEY_FILE: undefined }, /requires a client certificate .*: set TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE$/],
    ['a client certificate from another CA', 'other-client', /rejected the client certificate in TEMPORAL_TLS_CERT_FILE .*: use a certificate signed by the CA the server trusts for clients$/],
    ['the wrong server CA', { TEMPORAL_TLS_CA_FILE: 'other-ca' }, /presented a certificate this client does not trust .*: set TEMPORAL_TLS_CA_FILE to the CA that signed the server's certificate$/],
    ['no TLS at all', 'plain', /requires TLS \(.*the server speaks TLS\): set TEMPORAL_TLS=true/],
  ] as const)('%s: one FAIL sentence saying what to fix', async (_what, change, pattern) => {
    const certs = cluster.certs;
    const extra: Record<string, string | undefined> =
      change === 'other-client'
        ? { TEMPORAL_TLS_CERT_FILE: certs.otherClientCert, TEMPORAL_TLS_KEY_FILE: certs.otherClientKey }
        : change === 'plain'
          ? { TEMPORAL_TLS_CA_FILE: undefined, TEMPORAL_TLS_CERT_FILE: undefined, TEMPORAL_TLS_KEY_FILE: undefined, TEMPORAL_TLS_SERVER_NAME: undefined }
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
  const env = await FaultEnv.start('cluster', { model: { delayMs: 2000 }, heartbeatTimeoutMs: 5000, temporalEnv, namespace: 'fleet' });
  try {
    const workers = [env.startWorker('worker-a'), env.startWorker('worker-b'), env.startWorker('worker-c')];
    const ready = Date.now() + 60_000;
    for (;;) {
      const listed = await env.connection.operatorService.listSearchAttributes({ namespace: 'fleet' }).catch(() => undefined);
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
    expect([...report.outcomes.values()].filter((o) => o.codexAttempt > 1 && o.codexWorker !== 'worker-a').length).toBeGreaterThanOrEqual(1);
    await env.expectNoAppServersLeft();
  } finally {
    await env.close();
  }
});
