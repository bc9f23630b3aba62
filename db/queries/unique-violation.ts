/**
 * A unique or primary-key clash, on either dialect: better-sqlite3 reports
 * SQLITE_CONSTRAINT_UNIQUE / SQLITE_CONSTRAINT_PRIMARYKEY, pg reports SQLSTATE 23505.
 * NOTE: read from the error's `code`, never by class: each driver has its own error type and
 * a bundler may load a module twice.
 */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
