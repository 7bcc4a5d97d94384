/** Inserting one row and learning its generated id, the way each dialect allows. */
import { sql, type Insertable, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { StoreDialect } from './store-url.js';

type TableWithId = {
  [T in keyof Database]: Database[T] extends { id: unknown } ? T : never;
}[keyof Database];

/**
 * Inserts `values` into `table` and returns the new row's id: RETURNING on PostgreSQL,
 * the driver's insert id on MySQL (no RETURNING there) and SQLite.
 */
export async function insertReturningId<T extends TableWithId>(
  db: Kysely<Database>,
  dialect: StoreDialect,
  table: T,
  values: Insertable<Database[T]>,
): Promise<number> {
  // Kysely cannot type values for a table chosen by a type parameter; the signature above does.
  const query = db.insertInto(table).values(values);
  if (dialect === 'postgres') {
    const row = await query.returning(sql.ref<number>('id').as('id')).executeTakeFirstOrThrow();
    return Number(row.id);
  }
  const result = await query.executeTakeFirstOrThrow();
  if (result.insertId === undefined) throw new Error(`insert into ${table} returned no id`);
  return Number(result.insertId);
}
