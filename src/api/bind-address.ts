// host:port parsing and the loopback rule shared by the API and the metrics endpoint: anything that
// can be reached from another machine must be protected (the API by a token; metrics not at all).
import * as net from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

/** Parses "host:port" (the config schema already checked the shape). */
export function parseHostPort(addr: string): HostPort {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(addr.slice(i + 1)) };
}

/** True for localhost, 127.0.0.0/8 and ::1: addresses other machines cannot connect to. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return net.isIPv4(h) && h.startsWith('127.');
}

/** "http://host:port" for a bound address (IPv6 literals in brackets). */
export function httpUrl(host: string, port: number): string {
  return `http://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}
