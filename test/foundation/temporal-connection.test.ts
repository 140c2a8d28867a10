// How a failed connection to Temporal becomes one sentence with the fix: the classification of what
// the SDK or the TLS handshake reported (the cluster scenario checks the same against a real mTLS
// frontend), and the handshake probe against a plain-text listener and a closed port.
import * as net from 'node:net';
import { loadConfig } from '../../src/config';
import { freePort } from '../../src/infra/free-port';
import { temporalConnectFailure } from '../../src/infra/temporal-connection';
import { probeTls } from '../../src/infra/tls-probe';

const plain = loadConfig({ TEMPORAL_ADDRESS: 'temporal.internal:7233' }).temporal;
const secured = loadConfig({
  TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
  TEMPORAL_API_KEY: 'tmprl-key-0123456789',
  TEMPORAL_NAMESPACE: 'ns.acct',
}).temporal;

test.each([
  [
    plain,
    'Failed to connect before the deadline',
    /^cannot reach Temporal at temporal\.internal:7233 \(.*\): start it with `codex-bridge dev`, or set TEMPORAL_ADDRESS/,
  ],
  [
    plain,
    'x; TLS handshake: the server speaks TLS',
    /^Temporal at temporal\.internal:7233 requires TLS .*: set TEMPORAL_TLS=true/,
  ],
  [
    secured,
    "x; TLS handshake: Hostname/IP does not match certificate's altnames",
    /presented a certificate for another name .*: set TEMPORAL_TLS_SERVER_NAME/,
  ],
  [
    secured,
    '16 UNAUTHENTICATED: invalid API key',
    /refused the API key .*: check TEMPORAL_API_KEY and that it may use namespace ns\.acct$/,
  ],
  [
    secured,
    'Failed to connect before the deadline',
    /^cannot reach Temporal at ns\.acct\.tmprl\.cloud:7233 over TLS .*TEMPORAL_TLS_\* settings$/,
  ],
] as const)('%#: one sentence naming what to fix', (temporal, why, pattern) => {
  const sentence = temporalConnectFailure(temporal, why);
  expect(sentence).toMatch(pattern);
  expect(sentence).not.toContain('tmprl-key-0123456789');
});

test('the probe: nothing for a closed port; the handshake error for a listener that does not speak TLS', async () => {
  const closed = await freePort();
  expect(await probeTls({ address: `127.0.0.1:${closed}`, tls: {} }, 2000)).toBeUndefined();
  const server = net.createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const reason = await probeTls({ address: `127.0.0.1:${port}`, tls: {} }, 2000);
    expect(reason).toBe('wrong version number');
    // Not "the server speaks TLS": a plain-text client is not told to turn TLS on.
    expect(
      temporalConnectFailure(plain, `x; TLS handshake: ${await probeTls({ address: `127.0.0.1:${port}` }, 2000)}`),
    ).toMatch(/^cannot reach Temporal/);
  } finally {
    server.close();
  }
}, 20_000);
