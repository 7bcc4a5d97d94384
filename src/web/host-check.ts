/**
 * DNS-rebinding defence: the dashboard answers only Host values it can vouch for. A rebinding
 * page reaches us under its own name (`Host: evil.example:8080`) with the browser's cookies and
 * same-origin reads; refusing unknown names leaves it nothing to read. IP-literal Host values
 * cannot be rebound (the page's origin is then the address itself), so the address the
 * connection came in on is accepted, and any address when listening on a wildcard address.
 */
import { isIP } from 'node:net';

export interface HostCheckContext {
  /** Configured names (`<web hosts>` and a named `listen`), lower case. */
  names: readonly string[];
  /** The address the server is bound to (`0.0.0.0`, `::` or one address). */
  boundAddress: string;
  /** The local address of this connection. */
  localAddress: string | undefined;
}

/** The host part of a Host header, lower case, without port, brackets or a final dot. */
export function hostNameOf(header: string): string {
  let name = header.trim().toLowerCase();
  if (name.startsWith('[')) name = name.slice(1, name.indexOf(']') < 0 ? undefined : name.indexOf(']'));
  else if (name.split(':').length === 2) name = name.slice(0, name.indexOf(':'));
  return name.replace(/\.$/, '');
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms, and the name localhost. */
export function isLoopback(address: string): boolean {
  const plain = unmapped(address.toLowerCase());
  return plain === 'localhost' || plain === '::1' || (isIP(plain) === 4 && plain.startsWith('127.'));
}

/** True for the addresses that listen on every interface. */
export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}

/** Whether a request carrying `hostHeader` may be answered. */
export function isAllowedHost(hostHeader: string | undefined, context: HostCheckContext): boolean {
  if (!hostHeader) return false;
  const name = hostNameOf(hostHeader);
  if (context.names.includes(name)) return true;
  const local = unmapped(context.localAddress ?? '');
  if (name === 'localhost') return isLoopback(local);
  if (isIP(name) === 0) return false;
  return isWildcard(context.boundAddress) || unmapped(name) === local;
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
