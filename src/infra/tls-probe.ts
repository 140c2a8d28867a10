// The SDK reports any failed connection as "Failed to connect before the deadline". To say which
// certificate is wrong, `doctor` and `init` then try the TLS handshake themselves, with the same
// files, and read what the handshake (or the server's alert just after it) says.
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import type { TemporalSettings } from '../config';

/** Why the handshake failed; "the server speaks TLS" for a plain-text client; undefined if it worked or nothing answers. */
export function probeTls(
  temporal: Pick<TemporalSettings, 'address' | 'tls'>,
  timeoutMs = 3000,
): Promise<string | undefined> {
  const host = temporal.address.slice(0, temporal.address.lastIndexOf(':'));
  const port = Number(temporal.address.slice(temporal.address.lastIndexOf(':') + 1));
  const settings = temporal.tls;
  const read = (file: string | undefined) => (file ? fs.readFileSync(file) : undefined);
  return new Promise((resolve) => {
    let done = false;
    const finish = (result: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const socket = tls.connect({
      host,
      port,
      ALPNProtocols: ['h2'],
      ...(settings
        ? {
            servername: settings.serverName ?? (/^[\d.]+$|:/.test(host) ? undefined : host),
            ca: read(settings.caFile),
            cert: read(settings.certFile),
            key: read(settings.keyFile),
            rejectUnauthorized: true,
          }
        : { rejectUnauthorized: false }),
    });
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.once('secureConnect', () => {
      if (!settings) return finish('the server speaks TLS');
      // TLS 1.3 servers check the client certificate after the client's side of the handshake: their
      // verdict arrives as an alert a moment later.
      setTimeout(() => finish(undefined), 2000);
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish(
        error.code === 'ECONNREFUSED' || (error.code === 'ECONNRESET' && !settings)
          ? undefined
          : opensslReason(error.message),
      ),
    );
    socket.once('close', () => finish(undefined));
  });
}

/** "…:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:…/rec_layer_s3.c:…" → "tlsv1 alert unknown ca". */
function opensslReason(message: string): string {
  return /error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]+)/.exec(message)?.[1]?.trim() ?? message;
}
