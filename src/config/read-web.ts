/** Reads `<web>`: where `fleetstat serve` listens and who may see the dashboard and API. */
import { AttributeReader, checkChildren } from './attribute-reader.js';
import type { ConfigContext } from './context.js';
import { defineSecret, readSecret } from './secrets.js';
import { WEB_DEFAULTS } from './defaults.js';
import { WEB_ATTRIBUTES } from './elements.js';
import type { WebConfig } from './types.js';
import { parseBoolean, parseHost, parseHostList, parsePort } from './value-parsers.js';
import type { XmlElement } from './xml-tree.js';

/** Reads the optional `<web>` element; without it serve binds to 127.0.0.1:8080 with no auth. */
export function readWeb(element: XmlElement | undefined, ctx: ConfigContext): WebConfig {
  if (!element) return { ...WEB_DEFAULTS, hosts: [] };
  const { issues } = ctx;
  checkChildren(element, [], issues);
  const reader = new AttributeReader(element, issues, WEB_ATTRIBUTES);
  const listen = reader.has('listen') ? reader.parse('listen', parseHost) : WEB_DEFAULTS.listen;
  const port = reader.parse('port', parsePort, WEB_DEFAULTS.port);
  const hosts = reader.parse('hosts', parseHostList, []);
  const metricsOpen = reader.parse('metrics-open', parseBoolean, WEB_DEFAULTS.metricsOpen);
  const allowAnonymous = reader.parse('allow-anonymous', parseBoolean, WEB_DEFAULTS.allowAnonymous);
  const user = reader.text('user');
  const password = readSecret(reader, 'password', 'web', ctx);
  const token = readSecret(reader, 'token', 'web', ctx);
  if ((user === undefined) !== (password === undefined))
    issues.error(element.line, 'web: basic auth needs both user and a password');
  const web: WebConfig = {
    listen: listen as string,
    port: port as number,
    hosts: hosts ?? [],
    metricsOpen: metricsOpen as boolean,
    allowAnonymous: allowAnonymous as boolean,
  };
  if (user !== undefined) web.user = user;
  defineSecret(web, 'password', password);
  defineSecret(web, 'token', token);
  return web;
}
