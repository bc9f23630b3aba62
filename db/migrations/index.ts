import type { Migration } from 'kysely';
import type { DialectName } from '../url';
import { foundation } from './001-foundation';
import { mfaPolicy } from './002-mfa-policy';

/** Ordered by name; a new migration is a new entry, never an edit of a shipped one. */
export function migrations(dialect: DialectName): Record<string, Migration> {
  return {
    '001-foundation': foundation(dialect),
    '002-mfa-policy': mfaPolicy(dialect),
  };
}
