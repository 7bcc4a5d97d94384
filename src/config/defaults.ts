/**
 * Every default of the config file, in one place: the value an absent attribute takes. The
 * readers apply them; docs/config.md states them (test/config-docs*.test.ts compare where the
 * doc's "default" column is exact). Frozen, like the configs built from them.
 */
import type { AlertMailMode, AlertSeverity, EventsMailMode, HostKeyPolicy, WebhookFormat } from './types.js';

/** `<settings>` (and `<database>`). */
export const SETTINGS_DEFAULTS = Object.freeze({
  /** `database`: a SQLite file next to the config file. */
  database: 'sqlite:fleetstat.sqlite',
  /** `known-hosts`: the running user's OpenSSH file. */
  knownHosts: '~/.ssh/known_hosts',
  /** `concurrency`: hosts collected at the same time. */
  concurrency: 50,
  /** `connect-timeout`: seconds for the TCP connect and SSH handshake. */
  connectTimeoutSeconds: 10,
  /** `cpu-sample`: milliseconds between the probe's two CPU samples. */
  cpuSampleMs: 1000,
  /** `interval`: seconds between rounds of `fleetstat serve`. */
  intervalSeconds: 60,
  /** `event-cap`: most security events read per host per run. */
  eventCap: 500,
  /** `spool-dir`: where reports wait when the database fails (relative to the config file). */
  spoolDir: 'fleetstat-spool',
  /** `store-timeout`: seconds one host's report may take to store before it is spooled. */
  storeTimeoutSeconds: 30,
  /** `retention`: 90 days, long enough for quarter-on-quarter history, short enough that the database stays bounded. */
  retentionSeconds: 90 * 86400,
  /** `alert-mail`: one mail per recipient per round. */
  alertMail: 'grouped' satisfies AlertMailMode,
  /** `events-mail`: a security-events mail only when there are new events. */
  eventsMail: 'new-events' satisfies EventsMailMode,
  /** `inhibit-share`: percent of a round's hosts unreachable that points at the collector itself. */
  inhibitShare: 50,
  /** `inhibit-min-hosts`: the fewest unreachable hosts that can trigger inhibition. */
  inhibitMinHosts: 5,
});

/** `<smtp>`. */
export const SMTP_DEFAULTS = Object.freeze({
  /** `port` without `secure="true"`: plain SMTP (STARTTLS when offered). */
  port: 25,
  /** `port` with `secure="true"`: SMTPS, TLS from the first byte. */
  securePort: 465,
  /** `secure`: TLS from the first byte. */
  secure: false,
  /** `require-tls`: insist on STARTTLS (always on when `user` is set). */
  requireTls: false,
  /** `tls-verify`: check the server's certificate. */
  tlsVerify: true,
});

/** `<web>`; without the element serve listens on loopback with no credentials. */
export const WEB_DEFAULTS = Object.freeze({
  /** `listen`: loopback only. */
  listen: '127.0.0.1',
  /** `port`. */
  port: 8080,
  /** `metrics-open`: /metrics needs the dashboard's credentials. */
  metricsOpen: false,
  /** `allow-anonymous`: listening beyond loopback needs credentials. */
  allowAnonymous: false,
  /** `hosts`: no names besides the bound address (and localhost on loopback). */
  hosts: Object.freeze([] as string[]),
});

/** `<client>` (also what `<group>` and `<defaults>` pass on when they set nothing). */
export const CLIENT_DEFAULTS = Object.freeze({
  /** `port`: SSH. */
  port: 22,
  /** `timeout`: seconds for the host's whole collection. */
  timeoutSeconds: 60,
  /** `host-key`: the key must already be in known-hosts. */
  hostKey: 'strict' satisfies HostKeyPolicy,
  /** `sudo`: the probe runs as the login user. */
  sudo: false,
  /** `agent`: no ssh-agent. */
  agent: false,
});

/** `<alert>`. */
export const ALERT_DEFAULTS = Object.freeze({
  /** `for`: fire at once. */
  forSeconds: 0,
  /** `repeat`: a reminder every 4 hours while firing. */
  repeatSeconds: 4 * 3600,
  /** `notify`: mail on changes (and reminders), not on every run. */
  notify: 'on-change' as const,
  /** `severity`. */
  severity: 'warning' satisfies AlertSeverity,
});

/** `<webhook>`. */
export const WEBHOOK_DEFAULTS = Object.freeze({
  /** `format`: the Alertmanager-style JSON payload. */
  format: 'json' satisfies WebhookFormat,
  /** `secret-header`: the header carrying the shared secret. */
  secretHeader: 'X-Fleetstat-Token',
});
