/**
 * Plain-text hygiene for mails built from host data. Host names, values and event text come
 * from monitored machines and are untrusted: a CR/LF in a Subject would let a host add headers
 * (Bcc: …), control characters and bidi overrides can disguise text in a mail client, and a
 * huge field can make a mail undeliverable.
 */

/** Longest Subject we send, in characters (RFC 5322 recommends lines under 78; folding is nodemailer's job). */
export const MAX_SUBJECT_CHARS = 200;
/** Longest body line in characters; SMTP itself forbids lines over 998 octets. */
export const MAX_BODY_LINE_CHARS = 500;
/** Longest body in characters. */
export const MAX_BODY_CHARS = 64 * 1024;
/** Longest single inline field (a host name, a mount point) inside a body line. */
export const MAX_FIELD_CHARS = 200;

const ELLIPSIS = '…';

// C0 and C1 controls, DEL, Unicode line/paragraph separators, bidi embeddings/overrides/isolates,
// and zero-width characters: all can break a header or hide what a line really says.
const UNSAFE_INLINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]/g;
const UNSAFE_IN_BODY = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]/g;

/** Cuts `text` to at most `max` characters (code points), marking the cut with an ellipsis. */
export function truncateText(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return chars.slice(0, Math.max(0, max - 1)).join('') + ELLIPSIS;
}

/**
 * Makes one line of untrusted text safe to embed anywhere: every control or invisible character
 * becomes a space, runs of spaces collapse, and the result is cut to `max` characters.
 */
export function sanitizeInline(text: string, max = MAX_FIELD_CHARS): string {
  const flat = String(text).replace(UNSAFE_INLINE, ' ').replace(/ {2,}/g, ' ').trim();
  return truncateText(flat, max);
}

/** A Subject header value: one line, no CR/LF or control characters, at most MAX_SUBJECT_CHARS. */
export function sanitizeSubject(subject: string): string {
  return sanitizeInline(subject, MAX_SUBJECT_CHARS);
}

/**
 * A plain-text body: line breaks normalised to \n, control characters other than \n and \t
 * removed, each line cut to MAX_BODY_LINE_CHARS and the whole to MAX_BODY_CHARS.
 */
export function sanitizeBody(body: string): string {
  const lines = String(body)
    .replace(/\r\n?/g, '\n')
    .replace(UNSAFE_IN_BODY, '')
    .split('\n')
    .map((line) => truncateText(line, MAX_BODY_LINE_CHARS));
  const joined = lines.join('\n');
  if (joined.length <= MAX_BODY_CHARS) return joined;
  return truncateText(joined, MAX_BODY_CHARS - 40) + '\n[message truncated]';
}

// Deliberately strict: one mailbox, no display name, no spaces, quotes or control characters.
const PLAIN_ADDRESS = /^[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f]+@[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f]+$/;

/**
 * Splits a configured recipient list ("a@x, b@y; c@z") into single addresses and checks each.
 * Throws on an address that is not a plain `local@domain`, naming it, so a typo in the config
 * is reported instead of silently dropped.
 */
export function parseRecipients(to: string | readonly string[]): string[] {
  const parts = (typeof to === 'string' ? [to] : to).flatMap((entry) => entry.split(/[,;\s]+/));
  const addresses = parts.map((part) => part.trim()).filter((part) => part.length > 0);
  for (const address of addresses) {
    if (address.length > 254 || !PLAIN_ADDRESS.test(address)) {
      throw new Error(`mail recipient "${sanitizeInline(address, 80)}" is not a plain address like ops@example.org`);
    }
  }
  return [...new Set(addresses)];
}
