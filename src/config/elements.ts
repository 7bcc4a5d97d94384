/**
 * The config file's vocabulary: every element the reader accepts, the attributes it takes and
 * the elements it may hold. The readers check elements against these lists (unknown names are
 * errors with a suggestion), and test/config-docs.test.ts checks that docs/config.md documents
 * exactly these, so code and doc cannot drift. A leaf module: the readers import it, it imports
 * nothing.
 */

/** `<settings>`: server-wide settings. */
export const SETTINGS_ATTRIBUTES = [
  'database',
  'known-hosts',
  'concurrency',
  'connect-timeout',
  'cpu-sample',
  'interval',
  'event-cap',
  'spool-dir',
  'store-timeout',
  'retention',
  'alert-mail',
  'events-mail',
  'inhibit-share',
  'inhibit-min-hosts',
] as const;
/** `<database>`: the database URL, given here instead of `<settings database>`. */
export const DATABASE_ATTRIBUTES = ['url', 'url-env'] as const;
/** `<smtp>`: the mail server. */
export const SMTP_ATTRIBUTES = [
  'host',
  'port',
  'secure',
  'require-tls',
  'ca-file',
  'tls-verify',
  'user',
  'password',
  'password-env',
  'password-file',
  'from',
] as const;
/** `<web>`: the dashboard/API listener of `fleetstat serve`. */
export const WEB_ATTRIBUTES = [
  'listen',
  'port',
  'hosts',
  'user',
  'password',
  'password-env',
  'password-file',
  'token',
  'token-env',
  'token-file',
  'metrics-open',
  'allow-anonymous',
] as const;
/** What readClient reads on a `<client>` (the address expansion reads `hosts-file` before it). */
export const CLIENT_ATTRIBUTES = [
  'ip',
  'port',
  'username',
  'name',
  'mail',
  'timeout',
  'host-key',
  'sudo',
  'agent',
  'key',
  'password',
  'password-env',
  'password-file',
  'passphrase',
  'passphrase-env',
  'passphrase-file',
  'alert-mail',
  'events-mail',
] as const;
/** Instead of `ip`: a file listing the client's machines (read by read-fleet.ts). */
export const HOSTS_FILE_ATTRIBUTE = 'hosts-file';
/** Client attributes a `<group>` or `<defaults>` may set and pass on: all but the ones naming one machine. */
export const INHERITED_ATTRIBUTES: readonly string[] = CLIENT_ATTRIBUTES.filter(
  (name) => name !== 'ip' && name !== 'name',
);
/** A `<group>`'s own attributes, not passed on. */
export const GROUP_OWN_ATTRIBUTES = ['name'] as const;
/** What a rule is read from on an `<alert>`. */
export const ALERT_ATTRIBUTES = ['type', 'limit', 'for', 'repeat', 'notify', 'severity', 'mount', 'clear'] as const;
/** `<alert type="T" drop="true"/>` removes inherited rules of type T (read by group-inheritance.ts). */
export const ALERT_DROP_ATTRIBUTE = 'drop';
/** `<maintenance>`: a recurring window without alert mail. */
export const MAINTENANCE_ATTRIBUTES = ['every', 'from', 'to', 'rule'] as const;
/** `<webhook>`: a channel for a client's alert notices. */
export const WEBHOOK_ATTRIBUTES = ['url', 'format', 'secret', 'secret-env', 'secret-file', 'secret-header'] as const;
/** `<include>`: files whose clients and groups are spliced in. */
export const INCLUDE_ATTRIBUTES = ['path'] as const;

/** Elements allowed at the top of the main file, inside `<clients>`. */
export const TOP_LEVEL_ELEMENTS = [
  'settings',
  'database',
  'smtp',
  'web',
  'defaults',
  'group',
  'client',
  'include',
] as const;
/** Elements allowed at the top of an included file; server-wide settings stay in the main file. */
export const INCLUDED_TOP_LEVEL_ELEMENTS = ['client', 'group', 'include'] as const;
/** What a `<client>` holds. */
export const CLIENT_CHILDREN = ['alert', 'maintenance', 'webhook'] as const;
/** What a `<group>` holds. */
export const GROUP_CHILDREN = ['alert', 'client', 'group'] as const;
/** What `<defaults>` holds. */
export const DEFAULTS_CHILDREN = ['alert'] as const;

/** One element of the format: the attributes it takes and the elements it may hold. */
export interface ElementSpec {
  attributes: readonly string[];
  children: readonly string[];
}

/** Every element the reader accepts, by name (`clients` is the root). */
export const CONFIG_ELEMENTS: Readonly<Record<string, ElementSpec>> = Object.freeze({
  clients: { attributes: [], children: TOP_LEVEL_ELEMENTS },
  settings: { attributes: SETTINGS_ATTRIBUTES, children: [] },
  database: { attributes: DATABASE_ATTRIBUTES, children: [] },
  smtp: { attributes: SMTP_ATTRIBUTES, children: [] },
  web: { attributes: WEB_ATTRIBUTES, children: [] },
  defaults: { attributes: INHERITED_ATTRIBUTES, children: DEFAULTS_CHILDREN },
  group: { attributes: [...GROUP_OWN_ATTRIBUTES, ...INHERITED_ATTRIBUTES], children: GROUP_CHILDREN },
  client: { attributes: [...CLIENT_ATTRIBUTES, HOSTS_FILE_ATTRIBUTE], children: CLIENT_CHILDREN },
  alert: { attributes: [...ALERT_ATTRIBUTES, ALERT_DROP_ATTRIBUTE], children: [] },
  maintenance: { attributes: MAINTENANCE_ATTRIBUTES, children: [] },
  webhook: { attributes: WEBHOOK_ATTRIBUTES, children: [] },
  include: { attributes: INCLUDE_ATTRIBUTES, children: [] },
});
