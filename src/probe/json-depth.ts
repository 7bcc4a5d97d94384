/**
 * A nesting-depth scan of JSON text, run before JSON.parse so a hostile report of a million
 * brackets is refused in linear time without deep recursion anywhere.
 */

/**
 * Returns the offset where `text` first nests deeper than `maxDepth` arrays/objects, or
 * undefined if it never does. Brackets inside strings (including escaped quotes) are ignored.
 */
export function checkJsonDepth(text: string, maxDepth: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i += 1; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > maxDepth) return i;
    } else if (c === 0x5d || c === 0x7d) {
      depth -= 1;
    }
  }
  return undefined;
}
