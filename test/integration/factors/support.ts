import fs from 'node:fs';
import { createDb, migrateToLatest, type Db, type DialectName } from '../../../db';
import { freshDatabase } from '../support/dialects';
import { createUser } from '../../../lib/admin/users';
import { cliActor } from '../../../lib/admin/actor';
import type { Clock } from '../../../lib/clock';
import { createSession, elevateSession, validateSession, type SessionContext } from '../../../lib/auth/sessions';
import { countFactors } from '../../../db/queries/factors';
import { newPendingTotpSetup } from '../../../lib/auth/pending-setup';
import { confirmTotpSetup, newTotpSecret, stepAt, totpCodeAt } from '../../../lib/factors/totp';

// Sealing needs an app secret; never let a test write one into ./data.
process.env.PORTCULLIS_SECRET ??= 'integration-test-secret-0123456789abcdef';

export const office = { ip: '198.51.100.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36' };

/**
 * Two handles on one fresh database, as two app instances would have: two SQLite
 * connections to one file, or two PostgreSQL pools.
 */
export async function freshDbPair(dialect: DialectName): Promise<[Db, Db]> {
  const { url, dataDir } = await freshDatabase(dialect);
  const first = createDb(url, dataDir);
  await migrateToLatest(first);
  const pair: [Db, Db] = [first, createDb(url, dataDir)];
  if (!dataDir) return pair;
  // The file is the test's alone: closing the second of the two handles removes it.
  let open = pair.length;
  return pair.map((db) => ({
    ...db,
    close: async () => {
      await db.close();
      if (--open === 0) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  })) as [Db, Db];
}

export async function newUser(db: Db, username: string, clock: Clock): Promise<string> {
  const { id } = await createUser(db.kysely, { username, password: 'correct horse battery', state: 'active' }, cliActor, clock);
  return id;
}

/** A password-only session (aal 1), as after the sign-in form. */
export async function signedIn(db: Db, userId: string, clock: Clock, client = office): Promise<{ token: string; session: SessionContext }> {
  const token = await createSession(db.kysely, userId, client, clock);
  const session = await validateSession(db, token, clock);
  if (!session) throw new Error('no session');
  return { token, session };
}

/** A session that passed a second factor just now (R-E8: fresh for factor changes). */
export async function freshlyVerified(db: Db, userId: string, clock: Clock, client = office): Promise<{ token: string; session: SessionContext }> {
  const { session } = await signedIn(db, userId, clock, client);
  const token = await elevateSession(db.kysely, session, 'totp', clock);
  const elevated = token ? await validateSession(db, token, clock) : null;
  if (!token || !elevated) throw new Error('no session');
  return { token, session: elevated };
}

/** Enrolls a TOTP device with a code of the current step; returns its secret and what setup returned. */
export async function enrollTotp(db: Db, userId: string, clock: Clock, replaces: string | null = null) {
  // R-E8: a device beside an existing factor needs a fresh second factor, as in the portal.
  const { session } = (await countFactors(db.kysely, userId)) > 0 ? await freshlyVerified(db, userId, clock) : await signedIn(db, userId, clock);
  const secret = newTotpSecret();
  const pending = newPendingTotpSetup(userId, secret, replaces, clock);
  const result = await confirmTotpSetup(db.kysely, session, pending, { code: totpCodeAt(secret, stepAt(clock.now())) }, office, clock);
  if (!result.ok) throw new Error(`enrollment failed: ${result.reason}`);
  return { secret, result, pending };
}

export async function auditActions(db: Db, action?: string): Promise<string[]> {
  let query = db.kysely.selectFrom('audit_log').select('action').orderBy('id');
  if (action) query = query.where('action', '=', action);
  return (await query.execute()).map((r) => r.action);
}
