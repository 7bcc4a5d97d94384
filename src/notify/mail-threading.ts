/**
 * Message-IDs and threading. The outbox stores the local part of each Message-ID (fixed when the
 * mail is queued, so every retry carries the same one); the transport adds `@` and the domain of
 * the sender address. An alert episode (one host, one rule, from the moment it fired) has a
 * deterministic id, so its reminders and its resolution can answer the firing mail without
 * looking it up, and whichever collector sends them.
 */
import { createHash, randomUUID } from 'node:crypto';

/** The local part of the firing mail of one alert episode: `alert.<host id>.<rule hash>.<fired at ms>`. */
export function alertThreadId(hostId: number, ruleKey: string, firingSince: Date): string {
  const rule = createHash('sha256').update(ruleKey).digest('hex').slice(0, 12);
  return `alert.${hostId}.${rule}.${firingSince.getTime()}`;
}

/** A fresh local part for a mail that starts no thread of its own. */
export function newMessageLocalPart(): string {
  return `m.${randomUUID()}`;
}

/** The domain of a sender address (`fleetstat@corp.example` → `corp.example`); `fleetstat.local` when it has none. */
export function senderDomain(from: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from.trim());
  return match?.[1] ?? 'fleetstat.local';
}

/** Header fields of one outgoing mail, as nodemailer takes them. */
export interface ThreadingFields {
  messageId: string;
  inReplyTo?: string;
  references?: string[];
  headers: Record<string, string>;
}

/**
 * The Message-ID, In-Reply-To and References of a mail from its stored local parts, and
 * `Auto-Submitted: auto-generated` (RFC 3834), which keeps out-of-office replies away.
 */
export function threadingFields(
  mail: { messageId?: string | null; inReplyTo?: readonly string[] },
  from: string,
): ThreadingFields {
  const domain = senderDomain(from);
  const full = (local: string) => `<${local}@${domain}>`;
  const fields: ThreadingFields = {
    messageId: full(mail.messageId ?? newMessageLocalPart()),
    headers: { 'Auto-Submitted': 'auto-generated' },
  };
  const answers = mail.inReplyTo ?? [];
  const [first] = answers;
  if (first !== undefined) {
    fields.inReplyTo = full(first);
    fields.references = answers.map(full);
  }
  return fields;
}
