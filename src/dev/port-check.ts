// Refuses to start a server on a port someone else holds, before anything is started: the child
// would otherwise die with a bind error buried in its log.
import * as net from 'node:net';
import { DevError } from './dev-error';

/** Throws DevError `port P (what) is in use by another process: <remedy>.` when host:port cannot be bound. */
export async function assertPortFree(host: string, port: number, what: string, remedy: string): Promise<void> {
  const problem = await tryBind(host, port);
  if (problem === 'EADDRINUSE') throw new DevError(`port ${port} (${what}) is in use by another process: ${remedy}.`);
  if (problem === 'EADDRNOTAVAIL')
    throw new DevError(`address ${host} (${what}) is not an address of this machine: ${remedy}.`);
  if (problem !== null) throw new DevError(`port ${port} (${what}) cannot be opened (${problem}): ${remedy}.`);
}

// Binding is the real test: Node sets SO_REUSEADDR, so sockets lingering in TIME_WAIT from our own
// previous run do not count, while any listening socket (also on 0.0.0.0 or [::]) does.
function tryBind(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}
