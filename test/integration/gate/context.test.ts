import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import { cliActor } from '../../../lib/admin/actor';
import { createUser } from '../../../lib/admin/users';
import { createSession, elevateSession, validateSession } from '../../../lib/auth/sessions';
import { evaluateAccess } from '../../../lib/gate/access';
import { accessContextFor, isAccessUnavailable } from '../../../lib/gate/context';
import { dialects, freshDb } from '../support/dialects';

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const client = { ip: '10.20.30.40', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36' };

/*
 * The per-request access context over explicit inputs. Personas:
 * - Ada: TOTP enrolled, so a password-only session is challenged for it (R-D11).
 * - Ben: no factors, nothing required.
 */
describe.each(dialects)('accessContextFor on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  const users: Record<string, string> = {};

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    for (const name of ['ada', 'ben']) {
      users[name] = (await createUser(db.kysely, { username: name, password: 'long enough passphrase', state: 'active' }, cliActor, clock)).id;
    }
    await db.kysely
      .insertInto('factors')
      .values({ id: randomUUID(), user_id: users.ada, type: 'totp', name: 'Phone', created_at: start, last_used_at: null, secret_enc: 'x', last_used_step: null, credential_id: null, public_key: null, sign_count: null, transports: null })
      .execute();
  });

  afterEach(async () => {
    await db.close();
  });

  it('without a session: no session, no assurance, and every resource says sign in', async () => {
    const context = await accessContextFor(db, null, client, clock);
    expect(context.session).toBeNull();
    expect(context.assurance).toBeNull();
    expect(context.client).toEqual(client);
    expect(await context.decisionFor('portal')).toEqual({ kind: 'login', rule: 'R-D1' });
  });

  it('Ben: his session, aal1, and the same decision the middleware gate makes', async () => {
    const token = await createSession(db.kysely, users.ben, client, clock);
    const context = await accessContextFor(db, token, client, clock);
    expect(context.session).toMatchObject({ username: 'ben', aal: 1 });
    expect(context.assurance).toEqual({ aal: 1, secondFactorAt: null });
    expect(await context.decisionFor('portal')).toEqual((await evaluateAccess(db, token, 'portal', client, clock)).decision);
  });

  it('decides each resource once per context, however often it is asked', async () => {
    const token = await createSession(db.kysely, users.ben, client, clock);
    const context = await accessContextFor(db, token, client, clock);
    const first = context.decisionFor('portal');
    expect(context.decisionFor('portal')).toBe(first);
    expect(context.decisionFor('demo')).not.toBe(first);
    await Promise.all([first, context.decisionFor('demo')]);
  });

  it('Ada: challenged with a password only; after her second factor, aal2 with its time, and allowed', async () => {
    const token = await createSession(db.kysely, users.ada, client, clock);
    const before = await accessContextFor(db, token, client, clock);
    expect(await before.decisionFor('portal')).toMatchObject({ kind: 'challenge', rule: 'R-D11' });
    clock.advance(30_000);
    const elevated = (await elevateSession(db.kysely, (await validateSession(db, token, clock))!, 'totp', clock))!;
    const after = await accessContextFor(db, elevated, client, clock);
    expect(after.assurance).toEqual({ aal: 2, secondFactorAt: clock.now() });
    expect(after.session!.amr).toEqual([
      { method: 'pwd', at: start },
      { method: 'totp', at: clock.now() },
    ]);
    expect(await after.decisionFor('portal')).toMatchObject({ kind: 'allow' });
  });

  it('R-D10: a database that cannot answer a decision is "unavailable", never access', async () => {
    const token = await createSession(db.kysely, users.ben, client, clock);
    const context = await accessContextFor(db, token, client, clock);
    // The policies and settings are loaded at the first decision; their table is gone by then.
    await db.kysely.schema.dropTable('mfa_settings').execute();
    const error = await context.decisionFor('portal').then(
      () => null,
      (err: unknown) => err,
    );
    expect(isAccessUnavailable(error)).toBe(true);
  });
});
