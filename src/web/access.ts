/**
 * Who may read the dashboard and the API: only requests for a known host name (DNS-rebinding
 * defence, host-check.ts), with optional HTTP basic auth and/or a bearer token compared in
 * constant time; and the security headers every response carries.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAllowedHost } from './host-check.js';

export interface AccessOptions {
  basic?: { user: string; password: string };
  bearerToken?: string;
}

/** What the access check applies to a request; read per request, so a config reload applies at once. */
export interface AccessPolicy {
  credentials: AccessOptions;
  /** /metrics needs no credentials. */
  metricsOpen: boolean;
  /** Host names answered besides the bound address (lower case). */
  hostNames: readonly string[];
}

/** The Content-Security-Policy of every response: own scripts and styles only, no inline code, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Equal in constant time: both sides are hashed first, so neither length nor content leaks through timing. */
export function constantTimeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** True when the Authorization header satisfies one of the configured methods (or none is configured). */
export function isAuthorized(header: string | undefined, access: AccessOptions): boolean {
  if (!access.basic && access.bearerToken === undefined) return true;
  if (!header) return false;
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space).toLowerCase();
  const credentials = header.slice(space + 1).trim();
  if (space > 0 && scheme === 'bearer' && access.bearerToken !== undefined) {
    return constantTimeEqual(credentials, access.bearerToken);
  }
  if (space > 0 && scheme === 'basic' && access.basic) {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    // Evaluate both comparisons, so a right user name takes no longer than a wrong one.
    const userOk = constantTimeEqual(decoded.slice(0, colon), access.basic.user);
    const passwordOk = constantTimeEqual(decoded.slice(colon + 1), access.basic.password);
    return userOk && passwordOk;
  }
  return false;
}

function challenge(access: AccessOptions): string[] {
  const schemes: string[] = [];
  if (access.basic) schemes.push('Basic realm="fleetstat", charset="UTF-8"');
  if (access.bearerToken !== undefined) schemes.push('Bearer realm="fleetstat"');
  return schemes;
}

/**
 * Installs the host check, the access check and the security headers on `app`. `policy()` is
 * read on every request; `isAsset(path)` names static assets, which need no credentials.
 */
export function installAccess(
  app: FastifyInstance,
  policy: () => AccessPolicy,
  isAsset: (path: string) => boolean,
): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    setSecurityHeaders(reply);
    const { credentials, metricsOpen, hostNames } = policy();
    const bound = app.server.address();
    const boundAddress = typeof bound === 'object' && bound !== null ? bound.address : '';
    if (
      !isAllowedHost(request.headers.host, {
        names: hostNames,
        boundAddress,
        localAddress: request.socket.localAddress,
      })
    ) {
      request.log.warn(
        { host: request.headers.host?.slice(0, 300) },
        'refused a request for an unknown host name (DNS rebinding?); add the name to <web hosts> if it is yours',
      );
      return reply
        .code(421)
        .type('text/plain; charset=utf-8')
        .send('misdirected request: this server does not answer to that host name\n');
    }
    const path = request.url.split('?')[0] ?? '/';
    if (
      isAsset(path) ||
      (metricsOpen && path === '/metrics') ||
      isAuthorized(request.headers.authorization, credentials)
    )
      return;
    reply.code(401).header('www-authenticate', challenge(credentials));
    if (path.startsWith('/api/')) return reply.send({ error: 'authentication required' });
    return reply.type('text/plain; charset=utf-8').send('authentication required\n');
  });
}

function setSecurityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cross-origin-resource-policy', 'same-origin');
  // Pages and API answers hold fleet data: keep them out of shared caches (assets override this).
  reply.header('cache-control', 'no-store');
}
