/** Reading and writing silences (table `silences`); see silence-match.ts for what they cover. */
import type { Kysely } from 'kysely';
import { insertReturningId } from '../store/dialect-adapter.js';
import type { Database } from '../store/schema.js';
import type { SilenceRule } from './silence-match.js';

/** A stored silence, as `fleetstat silence list`, the dashboard and the API show it. */
export interface SilenceView {
  id: number;
  host_pattern: string;
  rule: string | null;
  starts_at: string;
  ends_at: string;
  author: string;
  comment: string;
  created_at: string;
  active: boolean;
}

/** What `fleetstat silence add` stores. */
export interface NewSilence {
  hostPattern: string;
  rule?: string;
  startsAt: Date;
  endsAt: Date;
  author: string;
  comment: string;
  now: Date;
}

/** Stores a silence and returns its id. */
export async function addSilence(db: Kysely<Database>, silence: NewSilence): Promise<number> {
  const row = {
    host_pattern: silence.hostPattern,
    rule: silence.rule ?? null,
    starts_at: silence.startsAt,
    ends_at: silence.endsAt,
    author: silence.author,
    comment: silence.comment,
    created_at: silence.now,
  };
  return await insertReturningId(db, 'silences', row);
}

/** Silences that have not ended at `now` (active or future), or every one with `all`; newest first. */
export async function listSilences(
  db: Kysely<Database>,
  now: Date,
  options: { all?: boolean; limit?: number } = {},
): Promise<SilenceView[]> {
  let query = db
    .selectFrom('silences')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(options.limit ?? 500);
  if (!options.all) query = query.where('ends_at', '>', now);
  const rows = await query.execute();
  return rows.map((r) => {
    const startsAt = new Date(r.starts_at);
    const endsAt = new Date(r.ends_at);
    return {
      id: Number(r.id),
      host_pattern: r.host_pattern,
      rule: r.rule,
      starts_at: startsAt.toISOString(),
      ends_at: endsAt.toISOString(),
      author: r.author,
      comment: r.comment,
      created_at: new Date(r.created_at).toISOString(),
      active: startsAt <= now && now < endsAt,
    };
  });
}

/** Ends a silence now. Returns false when there is no such silence or it had already ended. */
export async function expireSilence(db: Kysely<Database>, id: number, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('silences')
    .set({ ends_at: now })
    .where('id', '=', id)
    .where('ends_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The silences active at `now`, for the matcher. */
export async function activeSilences(db: Kysely<Database>, now: Date): Promise<SilenceRule[]> {
  const rows = await db
    .selectFrom('silences')
    .selectAll()
    .where('ends_at', '>', now)
    .where('starts_at', '<=', now)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    hostPattern: r.host_pattern,
    startsAt: new Date(r.starts_at),
    endsAt: new Date(r.ends_at),
    ...(r.rule === null ? {} : { rule: r.rule }),
  }));
}
