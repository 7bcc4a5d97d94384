/** Types of a loaded, validated configuration. The XML format is documented in docs/config.md. */
import type { MaintenanceWindow } from './maintenance-window.js';

export const ALERT_TYPES = ['memory', 'cpu', 'disk', 'swap', 'load', 'unreachable'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
/** How bad a firing rule is; shown in subjects, the dashboard, the API and metric labels. */
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** `grouped`: one mail per recipient per round listing every change; `per-change`: one mail per host per change. */
export const ALERT_MAIL_MODES = ['grouped', 'per-change'] as const;
export type AlertMailMode = (typeof ALERT_MAIL_MODES)[number];

/** `new-events`: a security-events mail on every run that finds new ones; `every-run`: on every run, "no new events" included. */
export const EVENTS_MAIL_MODES = ['new-events', 'every-run'] as const;
export type EventsMailMode = (typeof EVENTS_MAIL_MODES)[number];

export interface AlertRule {
  type: AlertType;
  /** Default `warning`. Two rules of one type (and mount) differ by severity. */
  severity: AlertSeverity;
  /** Disk rules only: the one mount point to watch; undefined watches the fullest mount. */
  mount?: string;
  /** Hysteresis: a firing rule resolves only once the value is at or below this (default: the limit). */
  clearLimit?: number;
  /** Percent for memory/cpu/disk/swap (0–100), load average per core as a plain number for load; unused for unreachable. */
  limit: number;
  /** Seconds the condition must hold before firing (0 = fire at once). */
  forSeconds: number;
  /** Seconds between reminder mails while firing (default 4 h). */
  repeatSeconds: number;
  notify: 'on-change' | 'every-run';
  /** Source line in the config file, for messages. */
  line: number;
}

export const WEBHOOK_FORMATS = ['json', 'slack', 'mattermost', 'teams'] as const;
/** `json`: an Alertmanager-style payload; `slack`, `mattermost`, `teams`: their incoming-webhook message formats. */
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** `<webhook>`: a JSON POST per alert notice, through the durable outbox. */
export interface WebhookConfig {
  /** http:// or https:// URL; also the outbox row's recipient. */
  url: string;
  format: WebhookFormat;
  /** Shared secret (hidden): sent in the `secret-header` header and used for the HMAC signature. */
  secret?: string;
  /** Header carrying the shared secret (default X-Fleetstat-Token). */
  secretHeader: string;
  line: number;
}

export type HostKeyPolicy = 'strict' | 'accept-new';

export interface ClientConfig {
  /** Display name; defaults to the IP. */
  name: string;
  ip: string;
  port: number;
  username: string;
  /** Resolved secret; never printed. */
  password?: string;
  /** Path to a private key file, and its resolved passphrase. */
  keyPath?: string;
  passphrase?: string;
  /** Use the ssh-agent at $SSH_AUTH_SOCK. */
  agent: boolean;
  mail?: string;
  /** Overrides `<settings alert-mail>` for this client. */
  alertMail?: AlertMailMode;
  /** Overrides `<settings events-mail>` for this client. */
  eventsMail?: EventsMailMode;
  /** Recurring windows without alert mail (`<maintenance>`). */
  maintenance?: MaintenanceWindow[];
  /** Webhook channels for this client's alert notices (`<webhook>`). */
  webhooks?: WebhookConfig[];
  alerts: AlertRule[];
  /** Per-host timeout for the whole collection in seconds. */
  timeoutSeconds: number;
  hostKey: HostKeyPolicy;
  /** Run the probe through `sudo -n` (or `sudo -S` with the password on stdin). */
  sudo: boolean;
  line: number;
}

export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  /** Use STARTTLS if offered; require it when true (always required when `user` is set). */
  requireTls: boolean;
  /** Verify the server's certificate (default true); false only by an explicit `tls-verify="false"`. */
  tlsVerify: boolean;
  /** PEM certificates from `ca-file`, trusted in addition to the system's CAs. */
  ca?: string;
  user?: string;
  password?: string;
  from: string;
}

export interface Settings {
  /** Database URL: sqlite:path (default sqlite:fleetstat.sqlite), postgres://…, mysql://… */
  databaseUrl: string;
  knownHostsPath: string;
  concurrency: number;
  connectTimeoutSeconds: number;
  cpuSampleMs: number;
  /** Seconds between rounds for `fleetstat serve`. */
  intervalSeconds: number;
  eventCap: number;
  /** Directory where reports wait when the database fails mid-round (imported next round). */
  spoolDir: string;
  /** Longest the storing of one host's report may take before the report is spooled instead (seconds). */
  storeTimeoutSeconds: number;
  /** `fleetstat serve` deletes samples, errors, rounds and sent mail older than this (seconds; default 90 days); undefined (`retention="off"`) keeps all. */
  retentionSeconds?: number;
  /** How alert changes are mailed (default `grouped`). */
  alertMail: AlertMailMode;
  /** When security-event mails go out (default `new-events`). */
  eventsMail: EventsMailMode;
  /**
   * Inhibition: when at least this percent of a round's hosts (and at least `inhibitMinHosts`)
   * cannot be reached, one "collector cannot reach N hosts" notice replaces their unreachable
   * mails. 0 turns it off. Default 50.
   */
  inhibitShare: number;
  inhibitMinHosts: number;
}

/** `<web>`: the dashboard/API listener of `fleetstat serve`. */
export interface WebConfig {
  listen: string;
  port: number;
  /** Host names (lower case) the dashboard answers to besides the bound address (DNS-rebinding defence). */
  hosts: string[];
  /** Serve /metrics without credentials (default false: behind the dashboard's credentials). */
  metricsOpen: boolean;
  /** Let serve listen beyond loopback without credentials (refused otherwise). */
  allowAnonymous: boolean;
  /** Basic auth user and (hidden) password. */
  user?: string;
  password?: string;
  /** Bearer token (hidden). */
  token?: string;
}

export interface Config {
  path: string;
  settings: Settings;
  smtp?: SmtpConfig;
  web: WebConfig;
  clients: ClientConfig[];
  /** Files secrets were read from (absolute); serve reloads when one changes. */
  secretFiles?: string[];
  /** Included files and host-list files read (absolute); serve reloads when one changes, like the main file. */
  sourceFiles?: string[];
}
