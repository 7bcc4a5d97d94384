/**
 * `fleetstat config check --fix`: rewrites what loading accepts with a warning into standard
 * form — typographic quotes used as attribute delimiters become `"`, and a lone `<client>` root
 * is wrapped in `<clients>`. Everything else (comments, layout, quotes inside values) is kept.
 */
import * as fs from 'node:fs';
import { rewriteTypographicDelimiters } from './typographic-delimiters.js';

export interface ConfigFix {
  text: string;
  /** One sentence per kind of change; empty when the file was already standard. */
  changes: string[];
}

/** The standard form of a config text, and what was changed to get there. */
export function fixConfigText(text: string): ConfigFix {
  const changes: string[] = [];
  const rewrite = rewriteTypographicDelimiters(text);
  let fixed = rewrite.text;
  if (rewrite.lines.length > 0)
    changes.push(
      `typographic quotes around attribute values made plain on line${rewrite.lines.length > 1 ? 's' : ''} ${rewrite.lines.join(', ')}`,
    );
  const root = rootElement(fixed);
  if (root && root.name === 'client') {
    const end = fixed.replace(/\s+$/, '').length;
    fixed = `${fixed.slice(0, root.at)}<clients>\n${fixed.slice(root.at, end)}\n</clients>\n`;
    changes.push('the lone <client> wrapped in <clients>');
  }
  return { text: fixed, changes };
}

/** The first element's name and offset, skipping the XML declaration, comments and processing instructions. */
function rootElement(text: string): { name: string; at: number } | undefined {
  const re = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>|<!\w[^>]*>|<([A-Za-z_][\w.:-]*)/g;
  for (let match = re.exec(text); match; match = re.exec(text)) {
    if (match[1]) return { name: match[1], at: match.index };
  }
  return undefined;
}

/**
 * Fixes the file at `path` in place (written to a temporary file with the same mode, then renamed
 * over it, so a crash never leaves half a config). Returns the changes made.
 */
export function fixConfigFile(path: string): string[] {
  const text = fs.readFileSync(path, 'utf8');
  const { text: fixed, changes } = fixConfigText(text);
  if (changes.length === 0) return [];
  const mode = fs.statSync(path).mode & 0o7777;
  const temporary = `${path}.fix-${process.pid}`;
  fs.writeFileSync(temporary, fixed, { mode });
  fs.chmodSync(temporary, mode);
  fs.renameSync(temporary, path);
  return changes;
}
