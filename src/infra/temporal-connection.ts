// The one place that turns the Temporal settings into connection options, so the worker, the API,
// the CLI and `doctor` reach a secured cluster (mTLS, a private CA, an API key) the same way.
import * as fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { TemporalSettings } from '../config';
import { oneLine } from '../contract/text';
import { probeTls } from './tls-probe';

/** What both the client `Connection` and the worker's `NativeConnection` accept. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

/** Reads the certificate files now (they were checked at start, but may have moved since). */
export function temporalConnectionOptions(
  temporal: Pick<TemporalSettings, 'address' | 'tls' | 'apiKey'>,
): TemporalConnectionOptions {
  const { address, tls, apiKey } = temporal;
  if (!tls) return { address };
  const read = (file: string, variable: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (error) {
      throw new Error(
        `${variable} (${file}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
        { cause: error },
      );
    }
  };
  const options: TLSConfig = {
    ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
    ...(tls.caFile ? { serverRootCACertificate: read(tls.caFile, 'TEMPORAL_TLS_CA_FILE') } : {}),
    ...(tls.certFile && tls.keyFile
      ? {
          clientCertPair: {
            crt: read(tls.certFile, 'TEMPORAL_TLS_CERT_FILE'),
            key: read(tls.keyFile, 'TEMPORAL_TLS_KEY_FILE'),
          },
        }
      : {}),
  };
  return { address, tls: options, ...(apiKey ? { apiKey } : {}) };
}

/** "TLS (mTLS, private CA)" and the like, for summaries; never the secrets themselves. */
export function describeTemporalSecurity(temporal: Pick<TemporalSettings, 'tls' | 'apiKey'>): string {
  if (!temporal.tls) return 'plain text';
  const parts = [
    temporal.tls.certFile ? 'client certificate' : '',
    temporal.tls.caFile ? 'private CA' : 'system CAs',
    temporal.apiKey ? 'API key' : '',
    temporal.tls.serverName ? `server name ${temporal.tls.serverName}` : '',
  ].filter(Boolean);
  return `TLS (${parts.join(', ')})`;
}

/** temporalConnectFailure, after asking the TLS handshake itself when the SDK gave no reason. */
export async function explainConnectFailure(
  temporal: Pick<TemporalSettings, 'address' | 'namespace' | 'tls' | 'apiKey'>,
  error: unknown,
): Promise<string> {
  const message = oneLine(String((error as Error)?.message ?? error), 200);
  let why = message;
  if (/cannot be read/.test(message)) return temporalConnectFailure(temporal, message);
  const handshake = await probeTls(temporal).catch(() => undefined);
  if (handshake) why = `${message}; TLS handshake: ${oneLine(handshake, 160)}`;
  return temporalConnectFailure(temporal, why);
}

/**
 * Why the connection failed, in one sentence with the fix. TLS failures are told apart by what the
 * handshake reported, as the same "UNAVAILABLE" covers a server that is down and one that refused us.
 */
export function temporalConnectFailure(
  temporal: Pick<TemporalSettings, 'address' | 'namespace' | 'tls' | 'apiKey'>,
  why: string,
): string {
  const { address, tls, apiKey } = temporal;
  const at = `Temporal at ${address}`;
  if (!tls) {
    if (/the server speaks TLS/.test(why)) {
      return `${at} requires TLS (${why}): set TEMPORAL_TLS=true, or TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE for mTLS (and TEMPORAL_TLS_CA_FILE for a private CA)`;
    }
    return `cannot reach ${at} (${why}): start it with \`codex-bridge dev\`, or set TEMPORAL_ADDRESS to a running server`;
  }
  if (/cannot be read/.test(why)) return `${why.replace(/\.$/, '')}: fix the path, or unset the variable`;
  if (
    /self[- ]signed|unable to (get|verify)|certificate verify failed|UnknownIssuer|unknown ?issuer|invalid peer certificate|BadSignature/i.test(
      why,
    )
  ) {
    return `${at} presented a certificate this client does not trust (${why}): set TEMPORAL_TLS_CA_FILE to the CA that signed the server's certificate`;
  }
  if (/hostname|altname|NotValidForName|does not match|not valid for/i.test(why)) {
    return `${at} presented a certificate for another name (${why}): set TEMPORAL_TLS_SERVER_NAME to the name in the server's certificate`;
  }
  if (/certificate required|unknown ca|bad certificate|certificate unknown|handshake|alert|tlsv1/i.test(why)) {
    return tls.certFile
      ? `${at} rejected the client certificate in TEMPORAL_TLS_CERT_FILE (${why}): use a certificate signed by the CA the server trusts for clients`
      : `${at} requires a client certificate (${why}): set TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE`;
  }
  if (/UNAUTHENTICATED|PERMISSION_DENIED|unauthori[sz]ed|forbidden|\b16\b|\b7\b/i.test(why) && apiKey) {
    return `${at} refused the API key (${why}): check TEMPORAL_API_KEY and that it may use namespace ${temporal.namespace}`;
  }
  return `cannot reach ${at} over TLS (${why}): check TEMPORAL_ADDRESS, that the server listens with TLS, and the TEMPORAL_TLS_* settings`;
}
