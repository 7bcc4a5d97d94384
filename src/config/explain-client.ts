/**
 * The effective settings of a client after inheritance, each with where it came from, for
 * `fleetstat config show`. Secrets are never shown: only how they are given (inline, a variable
 * name, a file path).
 */
import { provenanceOf, type ValueOrigin } from './read-fleet.js';
import type { AlertRule, ClientConfig } from './types.js';

/** One effective value: what it is and where it was set ("default" when nowhere). */
export interface ExplainedValue {
  value: string | number | boolean;
  from: string;
  /** `client`, `group NAME`, `defaults`, or `default` (built in). */
  level: string;
}

export interface ExplainedAlert {
  type: AlertRule['type'];
  limit?: number;
  forSeconds: number;
  repeatSeconds: number;
  notify: AlertRule['notify'];
  from: string;
  level: string;
}

export interface ExplainedClient {
  name: string;
  ip: string;
  port: number;
  /** `file:line` of the `<client>` element. */
  element: string;
  groups: string[];
  values: Record<string, ExplainedValue>;
  alerts: ExplainedAlert[];
}

const REDACTED = '<redacted>';

/** Explains one loaded client (values plus provenance). */
export function explainClient(client: ClientConfig): ExplainedClient {
  const origin = provenanceOf(client);
  const at = (o: ValueOrigin | undefined): Pick<ExplainedValue, 'from' | 'level'> =>
    o ? { from: `${o.file}:${o.line}`, level: o.level } : { from: 'default', level: 'default' };
  const attr = (name: string) => origin?.attributes.get(name);
  const values: Record<string, ExplainedValue> = {};
  const put = (key: string, value: ExplainedValue['value'], attribute = key): void => {
    values[key] = { value, ...at(attr(attribute)) };
  };
  values.ip = {
    value: client.ip,
    from: origin ? `${origin.address.file}:${origin.address.line}` : 'unknown',
    level: 'client',
  };
  put('name', client.name);
  if (!attr('name')) values.name = { value: client.name, from: 'the address', level: 'default' };
  put('port', client.port);
  put('username', client.username);
  if (client.mail !== undefined) put('mail', client.mail);
  put('timeout', `${client.timeoutSeconds}s`);
  put('host-key', client.hostKey);
  put('sudo', client.sudo);
  put('agent', client.agent);
  if (client.keyPath !== undefined) put('key', client.keyPath);
  for (const secret of ['password', 'passphrase'] as const) {
    if (client[secret] === undefined) continue;
    const source = [secret, `${secret}-env`, `${secret}-file`].find((name) => attr(name));
    const how =
      source === `${secret}-env`
        ? `from environment variable ${rawOf(client, source)}`
        : source === `${secret}-file`
          ? `from file ${rawOf(client, source)}`
          : 'inline in the config';
    values[secret] = { value: `${REDACTED} (${how})`, ...at(source ? attr(source) : undefined) };
  }
  return {
    name: client.name,
    ip: client.ip,
    port: client.port,
    element: origin ? `${origin.element.file}:${origin.element.line}` : 'unknown',
    groups: origin?.groups ?? [],
    values,
    alerts: client.alerts.map((rule, index) => explainAlert(rule, origin?.alerts[index])),
  };
}

function rawOf(client: ClientConfig, attribute: string): string {
  return provenanceOf(client)?.raw.get(attribute) ?? '?';
}

function explainAlert(rule: AlertRule, origin: ValueOrigin | undefined): ExplainedAlert {
  const alert: ExplainedAlert = {
    type: rule.type,
    forSeconds: rule.forSeconds,
    repeatSeconds: rule.repeatSeconds,
    notify: rule.notify,
    from: origin ? `${origin.file}:${origin.line}` : 'unknown',
    level: origin?.level ?? 'unknown',
  };
  if (rule.type !== 'unreachable') alert.limit = rule.limit;
  return alert;
}

/** The text form: one block per client, a value per line with its origin in a right-hand column. */
export function formatExplainedClient(client: ExplainedClient): string {
  const lines = [
    `${client.name} (${client.ip}:${client.port})  ${client.element}${client.groups.length ? `  groups: ${client.groups.join(' > ')}` : ''}`,
  ];
  const rows: Array<[string, string, string]> = Object.entries(client.values).map(([key, v]) => [
    key,
    String(v.value),
    origin(v),
  ]);
  for (const alert of client.alerts) {
    const limit = alert.limit === undefined ? '' : alert.type === 'load' ? ` > ${alert.limit}` : ` > ${alert.limit}%`;
    const timing = `${alert.forSeconds ? ` for ${alert.forSeconds}s` : ''}, repeat ${alert.repeatSeconds}s, ${alert.notify}`;
    rows.push([`alert ${alert.type}`, `${alert.type}${limit}${timing}`, origin(alert)]);
  }
  const keyWidth = Math.max(...rows.map((r) => r[0].length));
  const valueWidth = Math.min(48, Math.max(...rows.map((r) => r[1].length)));
  for (const [key, value, from] of rows) lines.push(`  ${key.padEnd(keyWidth)}  ${value.padEnd(valueWidth)}  ${from}`);
  return lines.join('\n');
}

function origin(value: { from: string; level: string }): string {
  if (value.level === 'default') return value.from === 'default' ? '(default)' : `(default: ${value.from})`;
  return value.level === 'client' ? value.from : `${value.from} (${value.level})`;
}
