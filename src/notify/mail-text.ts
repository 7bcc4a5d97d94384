/**
 * Plain-text hygiene for mails built from host data. Host names, values and event text come
 * from monitored machines and are untrusted: a CR/LF in a Subject would let a host add headers
 * (Bcc: …), control characters and bidi overrides can disguise text in a mail client, and a
 * huge field can make a mail undeliverable. The cleaning itself is src/text/untrusted-text.ts;
 * this module holds the mail's limits and its recipient check.
 */
import { oneLine, textBlock } from '../text/untrusted-text.js';

/** Longest Subject we send, in characters (RFC 5322 recommends lines under 78; folding is nodemailer's job). */
export const MAX_SUBJECT_CHARS = 200;
/** Longest body line in characters; SMTP itself forbids lines over 998 octets. */
export const MAX_BODY_LINE_CHARS = 500;
/** Longest body in characters. */
export const MAX_BODY_CHARS = 64 * 1024;
/** Longest single inline field (a host name, a mount point) inside a body line. */
export const MAX_FIELD_CHARS = 200;

/** A Subject header value: one line, no CR/LF or control characters, at most MAX_SUBJECT_CHARS. */
export function sanitizeSubject(subject: string): string {
  return oneLine(subject, MAX_SUBJECT_CHARS);
}

/** A plain-text body: the shared textBlock sanitiser with the mail's line and size limits. */
export function sanitizeBody(body: string): string {
  return textBlock(body, { maxLineChars: MAX_BODY_LINE_CHARS, maxChars: MAX_BODY_CHARS });
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
      throw new Error(`mail recipient "${oneLine(address, 80)}" is not a plain address like ops@example.org`);
    }
  }
  return [...new Set(addresses)];
}
