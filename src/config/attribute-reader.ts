/** Reads one element's attributes: flags unknown ones, parses known ones, reports at their line. */
import { closestName } from './closest-name.js';
import type { IssueLog } from './issues.js';
import type { Parsed } from './value-parsers.js';
import type { XmlElement } from './xml-tree.js';

export class AttributeReader {
  constructor(
    readonly element: XmlElement,
    private readonly issues: IssueLog,
    known: readonly string[],
  ) {
    for (const [name, attr] of element.attributes) {
      if (known.includes(name)) continue;
      const guess = closestName(name, known);
      const hint = guess ? `; did you mean "${guess}"?` : `; known attributes: ${known.join(', ')}`;
      issues.error(attr.line, `unknown attribute "${name}" on <${element.name}>${hint}`);
    }
  }

  /** True when the attribute is present (even if empty). */
  has(name: string): boolean {
    return this.element.attributes.has(name);
  }

  /** The attribute's line, or the element's when absent. */
  line(name: string): number {
    return this.element.attributes.get(name)?.line ?? this.element.line;
  }

  /** The raw value, or undefined when absent. An empty value is an error (never silently ignored). */
  text(name: string): string | undefined {
    const attr = this.element.attributes.get(name);
    if (!attr) return undefined;
    if (attr.value.trim() === '') {
      this.issues.error(attr.line, `${this.element.name} ${name} is empty`);
      return undefined;
    }
    return attr.value.trim();
  }

  /** A required raw value; reports `<element> is missing <name>` when absent. */
  required(name: string, what = name): string | undefined {
    if (!this.has(name)) {
      this.issues.error(this.element.line, `${this.element.name} is missing ${what}`);
      return undefined;
    }
    return this.text(name);
  }

  /**
   * Parses the attribute with `parser`; returns `fallback` when absent and undefined when
   * invalid (after reporting `<element> <name> "<value>" <reason>`).
   */
  parse<T>(name: string, parser: (text: string) => Parsed<T>, fallback: T): T | undefined;
  parse<T>(name: string, parser: (text: string) => Parsed<T>): T | undefined;
  parse<T>(name: string, parser: (text: string) => Parsed<T>, fallback?: T): T | undefined {
    if (!this.has(name)) return fallback;
    const raw = this.text(name);
    if (raw === undefined) return undefined;
    const parsed = parser(raw);
    if (parsed.ok) return parsed.value;
    this.issues.error(this.line(name), `${this.element.name} ${name} "${raw}" ${parsed.reason}`);
    return undefined;
  }
}

/**
 * Reports child elements not in `allowed` (with a suggestion) and stray text inside `element`.
 * Returns the allowed children.
 */
export function checkChildren(element: XmlElement, allowed: readonly string[], issues: IssueLog): XmlElement[] {
  if (element.textLine !== undefined) {
    // The text itself is not echoed: it could be a pasted secret.
    issues.error(element.textLine, `unexpected text inside <${element.name}>; settings go in attributes`);
  }
  return element.children.filter((child) => {
    if (allowed.includes(child.name)) return true;
    const guess = closestName(child.name, allowed);
    const hint =
      allowed.length === 0
        ? `; <${element.name}> takes no child elements`
        : guess
          ? `; did you mean <${guess}>?`
          : `; expected ${allowed.map((a) => `<${a}>`).join(', ')}`;
    issues.error(child.line, `unknown element <${child.name}> inside <${element.name}>${hint}`);
    return false;
  });
}
