/**
 * What `fleetstat serve` decides about its web listener from the config: the credentials in
 * force, whether the listen address may be reached without them, and which changes of a
 * reloaded config take effect only after a restart.
 */
import type { Config, WebConfig } from '../config/types.js';
import type { AccessOptions } from '../web/access.js';
import { isLoopback } from '../web/host-check.js';

/** The credentials `<web>` configures (basic and/or bearer); empty when none. */
export function webCredentials(web: WebConfig): AccessOptions {
  return {
    ...(web.user !== undefined && web.password !== undefined
      ? { basic: { user: web.user, password: web.password } }
      : {}),
    ...(web.token !== undefined ? { bearerToken: web.token } : {}),
  };
}

export type Exposure =
  | { status: 'loopback' }
  | { status: 'protected' }
  | { status: 'open-allowed' }
  | { status: 'open-refused'; reason: string };

/**
 * Whether listening on `host` with `web`'s credentials is acceptable: anything on loopback, any
 * address with credentials, and beyond loopback without credentials only with `allow-anonymous`.
 */
export function checkExposure(host: string, web: WebConfig): Exposure {
  if (isLoopback(host)) return { status: 'loopback' };
  const credentials = webCredentials(web);
  if (credentials.basic || credentials.bearerToken !== undefined) return { status: 'protected' };
  if (web.allowAnonymous) return { status: 'open-allowed' };
  return {
    status: 'open-refused',
    reason: `the dashboard would listen on ${host} without credentials, so anyone who reaches it reads the inventory; set <web token-file="…"> (or user and password-file), listen on 127.0.0.1, or set <web allow-anonymous="true">`,
  };
}

/** Which settings were pinned on the command line, so config changes to them do not matter. */
export interface Pinned {
  listen: boolean;
  database: boolean;
}

/** Names of the settings that changed from `previous` to `next` and take effect only after a restart (never their values: a database URL may hold a password). */
export function restartOnlyChanges(previous: Config, next: Config, pinned: Pinned): string[] {
  const changes: string[] = [];
  if (!pinned.listen && (previous.web.listen !== next.web.listen || previous.web.port !== next.web.port)) {
    changes.push(
      `<web listen/port> (${previous.web.listen}:${previous.web.port} -> ${next.web.listen}:${next.web.port})`,
    );
  }
  if (!pinned.database && previous.settings.databaseUrl !== next.settings.databaseUrl) changes.push('the database URL');
  return changes;
}

/** True when the web credentials differ between two configs (compared, never printed). */
export function credentialsChanged(previous: WebConfig, next: WebConfig): boolean {
  return previous.user !== next.user || previous.password !== next.password || previous.token !== next.token;
}
