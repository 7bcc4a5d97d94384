/**
 * `<defaults>` and `<group>`: attributes and alert rules that clients inherit. Merging is done
 * on the XML elements, before a client is read, so every value is still validated by
 * readClient at the line (and file) where it was written. The rules (docs/config.md, "Groups and
 * defaults"):
 *
 *   attributes: the nearest level wins — client, then the innermost group, …, then <defaults>.
 *               A secret is one slot: a client's password-env replaces an inherited password-file.
 *   alerts:     rules are keyed by type. A level that has rules of a type replaces every inherited
 *               rule of that type; <alert type="T" drop="true"/> removes them; other types pass on.
 */
import { AttributeReader, checkChildren } from './attribute-reader.js';
import { resolveConfigPath, type ConfigContext } from './context.js';
import { INHERITED_ATTRIBUTES } from './elements.js';
import type { SourceMap } from './source-map.js';
import type { XmlAttribute, XmlElement } from './xml-tree.js';

/** Attributes holding a path: made absolute where written, so a rule set in one file works in another. */
const PATH_ATTRIBUTES = new Set(['key', 'password-file', 'passphrase-file']);
const SECRET_SLOTS = [
  ['password', 'password-env', 'password-file'],
  ['passphrase', 'passphrase-env', 'passphrase-file'],
];

/** Where an inherited value comes from: the level's label (`defaults`, `group web`, `client`). */
export interface Origin {
  level: string;
  /** Virtual line (see SourceMap). */
  line: number;
}

/** What a level passes down: attributes with their origin, and alert elements with theirs. */
export interface Inheritance {
  attributes: Map<string, { attr: XmlAttribute; origin: Origin }>;
  alerts: Array<{ element: XmlElement; origin: Origin }>;
}

export const EMPTY_INHERITANCE: Inheritance = { attributes: new Map(), alerts: [] };

/**
 * Applies one level (`<defaults>`, `<group>` or `<client>`) on top of what it inherits.
 * `own` lists the attributes that belong to the level itself and are not passed on.
 */
export function applyLevel(
  base: Inheritance,
  element: XmlElement,
  level: string,
  own: readonly string[],
  ctx: ConfigContext,
  sources: SourceMap,
): Inheritance {
  const attributes = new Map(base.attributes);
  for (const [name, attr] of element.attributes) {
    if (own.includes(name) || !INHERITED_ATTRIBUTES.includes(name)) continue;
    const slot = SECRET_SLOTS.find((members) => members.includes(name)) ?? [name];
    for (const member of slot) {
      // Two sources of one secret on the same level is readClient's error to report; keep both.
      if (!element.attributes.has(member)) attributes.delete(member);
    }
    attributes.set(name, { attr: absolutePath(name, attr, ctx, sources), origin: { level, line: attr.line } });
  }
  return { attributes, alerts: mergeAlerts(base.alerts, element, level, ctx) };
}

function absolutePath(name: string, attr: XmlAttribute, ctx: ConfigContext, sources: SourceMap): XmlAttribute {
  if (!PATH_ATTRIBUTES.has(name) || attr.value.trim() === '') return attr;
  return {
    ...attr,
    value: resolveConfigPath({ ...ctx, baseDir: sources.dirOf(attr.line, ctx.baseDir) }, attr.value.trim()),
  };
}

function mergeAlerts(
  inherited: Inheritance['alerts'],
  element: XmlElement,
  level: string,
  ctx: ConfigContext,
): Inheritance['alerts'] {
  const mine = element.children.filter((child) => child.name === 'alert');
  if (mine.length === 0) return inherited;
  const typeOf = (alert: XmlElement): string => alert.attributes.get('type')?.value.trim() ?? '';
  const replaced = new Set(mine.map(typeOf));
  const kept = inherited.filter(({ element: alert }) => !replaced.has(typeOf(alert)));
  const added: Inheritance['alerts'] = [];
  for (const alert of mine) {
    const drop = alert.attributes.get('drop');
    if (!drop) {
      added.push({ element: alert, origin: { level, line: alert.line } });
      continue;
    }
    if (drop.value.trim() !== 'true') {
      ctx.issues.error(drop.line, `alert drop "${drop.value.trim()}" must be true (to keep a rule, leave drop out)`);
      continue;
    }
    const extra = [...alert.attributes.keys()].filter((name) => name !== 'type' && name !== 'drop');
    if (extra.length > 0)
      ctx.issues.error(alert.line, `an alert with drop="true" takes only type; remove ${extra.join(', ')}`);
    if (!alert.attributes.has('type')) ctx.issues.error(alert.line, 'alert with drop="true" is missing type');
    else if (!inherited.some(({ element: other }) => typeOf(other) === typeOf(alert))) {
      ctx.issues.warn(
        alert.line,
        `alert drop="true" removes no inherited ${typeOf(alert)} rule (none is inherited here)`,
      );
    }
  }
  return [...kept, ...added];
}

/**
 * Validates a `<group>`/`<defaults>` element itself: unknown attributes (once, at the group, with a
 * suggestion) and unknown children. Returns the allowed children.
 */
export function checkLevel(
  element: XmlElement,
  own: readonly string[],
  children: readonly string[],
  ctx: ConfigContext,
): XmlElement[] {
  void new AttributeReader(element, ctx.issues, [...own, ...INHERITED_ATTRIBUTES]);
  return checkChildren(element, children, ctx.issues);
}

/**
 * The element readClient validates: the client's own attributes over the inherited ones, and
 * the merged alerts (without `drop` ones). Non-alert children stay so they are still reported.
 */
export function mergedClientElement(client: XmlElement, merged: Inheritance): XmlElement {
  const attributes = new Map<string, XmlAttribute>();
  for (const [name, { attr }] of merged.attributes) attributes.set(name, attr);
  for (const [name, attr] of client.attributes) if (!attributes.has(name)) attributes.set(name, attr);
  const others = client.children.filter((child) => child.name !== 'alert');
  const element: XmlElement = {
    name: 'client',
    line: client.line,
    attributes,
    children: [...merged.alerts.map((a) => a.element), ...others],
  };
  if (client.textLine !== undefined) element.textLine = client.textLine;
  return element;
}
