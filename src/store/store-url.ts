/** Parsing of the database URL from the config into a dialect and its driver settings. */
import { StoreError, redactUrl } from './store-error.js';

export type StoreDialect = 'sqlite' | 'postgres' | 'mysql';

export type StoreTarget =
  | { dialect: 'sqlite'; path: string }
  | { dialect: 'postgres'; connectionString: string }
  | { dialect: 'mysql'; uri: string };

/**
 * Splits a database URL into its dialect and driver settings.
 * Accepts `sqlite:path` (relative or absolute, `sqlite::memory:`, also `sqlite:///abs/path`),
 * `postgres://…`/`postgresql://…` and `mysql://…`/`mariadb://…`.
 */
export function parseStoreUrl(url: string): StoreTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'sqlite': {
      let path = url.slice('sqlite:'.length);
      if (path.startsWith('//')) path = path.slice(2);
      if (path === '')
        throw new StoreError(
          `database URL "${redactUrl(url)}" names no SQLite file (try sqlite:fleetstat.sqlite)`,
          url,
        );
      return { dialect: 'sqlite', path };
    }
    case 'postgres':
    case 'postgresql':
      return { dialect: 'postgres', connectionString: url };
    case 'mysql':
    case 'mariadb':
      // mysql2 only knows the mysql: scheme; MariaDB speaks the same protocol.
      return { dialect: 'mysql', uri: url.replace(/^mariadb:/i, 'mysql:') };
    default:
      throw new StoreError(
        `database URL "${redactUrl(url)}" is not one of sqlite:path, postgres://…, mysql://…, mariadb://…`,
        url,
      );
  }
}
