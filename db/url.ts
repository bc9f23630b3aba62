import path from 'node:path';

export type DialectName = 'sqlite' | 'postgres';

export type ParsedDatabaseUrl =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'postgres'; connectionString: string };

/** Unset means the embedded default: a SQLite file under the data dir. */
export function parseDatabaseUrl(url: string | undefined, dataDir: string): ParsedDatabaseUrl {
  if (!url) return { dialect: 'sqlite', file: path.join(dataDir, 'portcullis.db') };
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', connectionString: url };
  const sqlite = /^(file|sqlite):(.+)$/i.exec(url);
  if (sqlite) return { dialect: 'sqlite', file: path.resolve(sqlite[2].replace(/^\/\/(?=\/)/, '')) };
  throw new Error('DATABASE_URL must be file:<path>, sqlite:<path> or postgres://…');
}

export function isSqliteUrl(url: string | undefined): boolean {
  return !url || /^(file|sqlite):/i.test(url);
}
