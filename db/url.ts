import path from 'node:path';

export type DialectName = 'sqlite' | 'postgres';

export type ParsedDatabaseUrl =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'postgres'; connectionString: string };

/**
 * Unset means the embedded default: a SQLite file under the data dir. Messages never repeat
 * the URL: it may hold a password.
 * @throws Error naming DATABASE_URL and what is wrong
 */
export function parseDatabaseUrl(url: string | undefined, dataDir: string): ParsedDatabaseUrl {
  if (!url) return { dialect: 'sqlite', file: path.join(dataDir, 'portcullis.db') };
  if (/^postgres(ql)?:\/\//i.test(url)) {
    if (!postgresUrlReadable(url)) throw new Error('DATABASE_URL is not a readable postgres:// URL: postgres://user:password@host[:port]/database (special characters in the password percent-encoded)');
    return { dialect: 'postgres', connectionString: url };
  }
  const sqlite = /^(file|sqlite):(.+)$/i.exec(url);
  if (sqlite) return { dialect: 'sqlite', file: path.resolve(sqlite[2].replace(/^\/\/(?=\/)/, '')) };
  throw new Error('DATABASE_URL must be file:<path>, sqlite:<path> or postgres://…');
}

export function isSqliteUrl(url: string | undefined): boolean {
  return !url || /^(file|sqlite):/i.test(url);
}

/** A URL with a host (or a socket directory in `?host=`), a numeric port if any, and decodable parts. */
function postgresUrlReadable(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
    decodeURIComponent(parsed.pathname);
  } catch {
    return false;
  }
  return parsed.hostname !== '' || !!parsed.searchParams.get('host');
}
