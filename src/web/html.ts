/**
 * Server-side HTML with escaping by default. Every interpolated value in an `html` template is
 * escaped unless it is itself the result of `html` (a SafeHtml): host names, users, event
 * messages and mount points come from monitored hosts and must never become markup.
 */

/** A fragment of HTML that is already safe to emit. Only `html` and `raw` create one. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for use in HTML element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

/** A value `html` can interpolate: text and numbers are escaped, arrays are joined, null/undefined/false vanish. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: the literal parts are trusted markup, every `${value}` is escaped. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Marks a string built by this program (never from a host) as markup. Use sparingly. */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
