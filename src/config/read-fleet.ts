/**
 * Reads every client of a config: walks `<group>`s (inheriting from `<defaults>` and enclosing
 * groups), expands address lists, ranges, CIDR blocks and host-list files into one client per
 * machine, finds duplicates across files, and records where each effective value came from.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConfigContext } from './context.js';
import {
  applyLevel,
  checkLevel,
  EMPTY_INHERITANCE,
  mergedClientElement,
  type Inheritance,
} from './group-inheritance.js';
import { expandAddresses, isMultiAddress, parseHostList } from './host-expansion.js';
import { closestName } from './closest-name.js';
import {
  CLIENT_ATTRIBUTES,
  DEFAULTS_CHILDREN,
  GROUP_CHILDREN,
  GROUP_OWN_ATTRIBUTES,
  HOSTS_FILE_ATTRIBUTE,
} from './elements.js';
import { readClient } from './read-client.js';
import { defineSecret, errorCode } from './secrets.js';
import { countLines, type SourceMap, type SourcePlace } from './source-map.js';
import type { ClientConfig } from './types.js';
import { parsePort } from './value-parsers.js';
import type { XmlAttribute, XmlElement } from './xml-tree.js';

/** Where one effective value came from: the file:line and the level (`client`, `group web`, `defaults`). */
export interface ValueOrigin extends SourcePlace {
  level: string;
}

/** Provenance of a client's effective settings, for `fleetstat config show`. */
export interface ClientProvenance {
  /** The `<client>` element. */
  element: SourcePlace;
  /** Where the address was written (an `ip` attribute or a line of a host-list file). */
  address: SourcePlace;
  /** Groups enclosing the client, outermost first. */
  groups: string[];
  /** Attribute name → origin, for every attribute given (absent ones are defaults). */
  attributes: Map<string, ValueOrigin>;
  /** Origin of each alert rule, in the order of `client.alerts`. */
  alerts: ValueOrigin[];
  /** Raw text of the attributes that are not secret values themselves (paths, variable names). */
  raw: Map<string, string>;
}

/** Attributes whose raw text is a secret and must never be kept for display. */
const SECRET_VALUES = new Set(['password', 'passphrase']);

/** What provenance is computed from, kept per client; computed only when asked (config show). */
interface ProvenanceSource {
  element: XmlElement;
  template: XmlElement;
  merged: Inheritance;
  groups: string[];
  sources: SourceMap;
  addressLine: number;
}

const provenanceSources = new WeakMap<ClientConfig, ProvenanceSource>();
const provenance = new WeakMap<ClientConfig, ClientProvenance>();
const hostFiles = new WeakMap<ClientConfig[], string[]>();

/** Absolute paths of the host-list files read for a loaded config's clients (`config.clients`). */
export function hostFilesRead(clients: ClientConfig[]): string[] {
  return hostFiles.get(clients) ?? [];
}

/** Where the effective values of a loaded client came from; undefined for clients not made by loadConfig. */
export function provenanceOf(client: ClientConfig): ClientProvenance | undefined {
  const known = provenance.get(client);
  if (known) return known;
  const source = provenanceSources.get(client);
  if (!source) return undefined;
  const computed = computeProvenance(source);
  provenance.set(client, computed);
  return computed;
}

function computeProvenance({
  element,
  template,
  merged,
  groups,
  sources,
  addressLine,
}: ProvenanceSource): ClientProvenance {
  const attributes = new Map<string, ValueOrigin>();
  for (const [name, { origin }] of merged.attributes)
    attributes.set(name, { ...sources.place(origin.line), level: origin.level });
  for (const [name, attr] of element.attributes)
    if (!attributes.has(name)) attributes.set(name, { ...sources.place(attr.line), level: 'client' });
  const raw = new Map<string, string>();
  for (const [name, attr] of template.attributes) if (!SECRET_VALUES.has(name)) raw.set(name, attr.value.trim());
  return {
    element: sources.place(element.line),
    address: sources.place(addressLine),
    groups,
    attributes,
    raw,
    alerts: merged.alerts.map(({ origin }) => ({ ...sources.place(origin.line), level: origin.level })),
  };
}

/** A client's attributes that name one machine (or many): never inherited. */
const CLIENT_OWN = ['ip', 'name', HOSTS_FILE_ATTRIBUTE];
/** Placeholder in `name` replaced by each machine's address. */
const IP_PLACEHOLDER = '{ip}';

interface Address {
  host: string;
  /** Virtual line where it was written. */
  line: number;
}

interface FleetState {
  ctx: ConfigContext;
  sources: SourceMap;
  clients: ClientConfig[];
  /** `ip|port` → virtual line of its first client. */
  seen: Map<string, number>;
  hostFiles: string[];
}

/**
 * Reads the clients among `elements` (top-level elements, includes already spliced in), with
 * `defaults` (the `<defaults>` element, if any) applied to all. Errors go to ctx.issues.
 */
export function readFleet(
  elements: XmlElement[],
  defaults: XmlElement | undefined,
  ctx: ConfigContext,
  sources: SourceMap,
): ClientConfig[] {
  const state: FleetState = { ctx, sources, clients: [], seen: new Map(), hostFiles: [] };
  let base = EMPTY_INHERITANCE;
  if (defaults) {
    checkLevel(defaults, [], DEFAULTS_CHILDREN, ctx);
    base = applyLevel(base, defaults, 'defaults', [], ctx, sources);
  }
  walk(elements, base, [], state);
  for (const client of state.clients) {
    client.line = sources.place(client.line).line;
    for (const alert of client.alerts) alert.line = sources.place(alert.line).line;
  }
  hostFiles.set(state.clients, state.hostFiles);
  return state.clients;
}

function walk(elements: XmlElement[], inherited: Inheritance, groups: string[], state: FleetState): void {
  for (const element of elements) {
    if (element.name === 'client') readTemplate(element, inherited, groups, state);
    else if (element.name === 'group') readGroup(element, inherited, groups, state);
  }
}

function readGroup(element: XmlElement, inherited: Inheritance, groups: string[], state: FleetState): void {
  const children = checkLevel(element, GROUP_OWN_ATTRIBUTES, GROUP_CHILDREN, state.ctx);
  const name = element.attributes.get('name')?.value.trim() || `at ${state.sources.describe(element.line)}`;
  const merged = applyLevel(inherited, element, `group ${name}`, GROUP_OWN_ATTRIBUTES, state.ctx, state.sources);
  walk(
    children.filter((child) => child.name !== 'alert'),
    merged,
    [...groups, name],
    state,
  );
}

/** One `<client>` element: validated once by readClient, then copied for each of its addresses. */
function readTemplate(element: XmlElement, inherited: Inheritance, groups: string[], state: FleetState): void {
  const { ctx, sources } = state;
  const merged = applyLevel(inherited, element, 'client', CLIENT_OWN, ctx, sources);
  const template = mergedClientElement(element, merged);
  reportHostsFileTypos(template, ctx);
  const addresses = readAddresses(element, template, state);
  const nameAttr = element.attributes.get('name');
  if (addresses && addresses.length > 1 && nameAttr && !nameAttr.value.includes(IP_PLACEHOLDER)) {
    ctx.issues.error(
      nameAttr.line,
      `client name "${nameAttr.value.trim()}" would be the same for ${addresses.length} machines; write it with ${IP_PLACEHOLDER} (name="${nameAttr.value.trim()}-${IP_PLACEHOLDER}") or leave name out`,
    );
  }
  if (addresses) reportDuplicates(addresses, template, state);
  const base = readClient(template, ctx);
  if (!base || !addresses || addresses.length === 0) return;
  for (const address of addresses) {
    const client = addresses.length === 1 && address.host === base.ip ? base : copyFor(base, address.host);
    if (nameAttr) client.name = nameAttr.value.trim().split(IP_PLACEHOLDER).join(address.host);
    provenanceSources.set(client, { element, template, merged, groups, sources, addressLine: address.line });
    state.clients.push(client);
  }
}

/**
 * The machines a client element stands for; sets the template's `ip` to the first so readClient
 * validates everything else once. Undefined when the addresses are invalid (errors recorded).
 */
function readAddresses(element: XmlElement, template: XmlElement, state: FleetState): Address[] | undefined {
  const { ctx } = state;
  const ip = element.attributes.get('ip');
  const file = element.attributes.get(HOSTS_FILE_ATTRIBUTE);
  template.attributes.delete(HOSTS_FILE_ATTRIBUTE);
  if (ip && file) {
    ctx.issues.error(file.line, 'client: use only one of ip, hosts-file');
    return undefined;
  }
  if (file) {
    const hosts = readHostsFile(file, state);
    // readClient still validates the rest with a stand-in address (a documentation address, never contacted).
    template.attributes.set('ip', { value: hosts?.[0]?.host ?? '192.0.2.1', line: file.line });
    return hosts;
  }
  // Addresses written in the element are placed at its line, as duplicates always were.
  if (!ip || !isMultiAddress(ip.value)) return ip ? [{ host: ip.value.trim(), line: element.line }] : undefined;
  const expanded = expandAddresses(ip.value);
  if (!expanded.ok) {
    ctx.issues.error(ip.line, `client ip "${ip.value.trim()}" ${expanded.reason}`);
    template.attributes.set('ip', { value: '192.0.2.1', line: ip.line });
    return undefined;
  }
  template.attributes.set('ip', { value: expanded.value[0]!, line: ip.line });
  return expanded.value.map((host) => ({ host, line: element.line }));
}

function readHostsFile(attr: XmlAttribute, state: FleetState): Address[] | undefined {
  const { ctx, sources } = state;
  const given = attr.value.trim();
  if (given === '') {
    ctx.issues.error(attr.line, 'client hosts-file is empty');
    return undefined;
  }
  const written = sources.place(attr.line).file;
  const absolute = path.resolve(sources.dirOf(attr.line, ctx.baseDir), given);
  const display = path.isAbsolute(given) ? given : path.join(path.dirname(written), given);
  let text: string;
  try {
    text = fs.readFileSync(absolute, 'utf8');
  } catch (err) {
    ctx.issues.error(attr.line, `client hosts-file ${display} is not readable (${errorCode(err)})`);
    return undefined;
  }
  state.hostFiles.push(absolute);
  ctx.sourceFiles.push(absolute);
  const offset = sources.add(display, countLines(text), absolute);
  const { hosts, problems } = parseHostList(text);
  for (const problem of problems)
    ctx.issues.error(
      problem.line > 0 ? offset + problem.line : attr.line,
      problem.line > 0 ? problem.message : `hosts-file ${display} ${problem.message}`,
    );
  if (hosts.length === 0 && problems.length === 0) ctx.issues.warn(attr.line, `hosts-file ${display} lists no hosts`);
  return problems.length > 0 ? undefined : hosts.map((entry) => ({ host: entry.host, line: offset + entry.line }));
}

/**
 * readClient knows only its own attributes; a misspelt `hosts-file` (which this module reads)
 * would get no suggestion there, so it is reported here, once, and kept from readClient.
 */
function reportHostsFileTypos(template: XmlElement, ctx: ConfigContext): void {
  for (const [name, attr] of template.attributes) {
    if (CLIENT_ATTRIBUTES.includes(name as never) || name === HOSTS_FILE_ATTRIBUTE) continue;
    if (closestName(name, [HOSTS_FILE_ATTRIBUTE]) === undefined || closestName(name, CLIENT_ATTRIBUTES) !== undefined)
      continue;
    ctx.issues.error(attr.line, `unknown attribute "${name}" on <client>; did you mean "hosts-file"?`);
    template.attributes.delete(name);
  }
}

/** A copy of a validated client for another address; secrets are hidden properties and copied as such. */
function copyFor(base: ClientConfig, ip: string): ClientConfig {
  const client: ClientConfig = { ...base, ip, name: ip, alerts: base.alerts.map((alert) => ({ ...alert })) };
  defineSecret(client, 'password', base.password);
  defineSecret(client, 'passphrase', base.passphrase);
  return client;
}

/** Two clients with one address and port would be collected twice: an error naming both places. */
function reportDuplicates(addresses: Address[], template: XmlElement, state: FleetState): void {
  const port = parsePort(template.attributes.get('port')?.value ?? '22');
  if (!port.ok) return;
  for (const address of addresses) {
    const key = `${address.host.toLowerCase()}|${port.value}`;
    const first = state.seen.get(key);
    if (first === undefined) {
      state.seen.set(key, address.line);
      continue;
    }
    const a = state.sources.place(first);
    const b = state.sources.place(address.line);
    const where = a.file === b.file ? `lines ${a.line} and ${b.line}` : `${a.file}:${a.line} and ${b.file}:${b.line}`;
    state.ctx.issues.error(
      address.line,
      `duplicate client ${address.host.toLowerCase()} port ${port.value} (${where})`,
    );
  }
}
