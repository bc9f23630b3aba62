import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { setUserPasswordHash } from '../../../db/queries/users';
import { cliActor } from '../../../lib/admin/actor';
import { createUser } from '../../../lib/admin/users';
import { changeOwnPassword } from '../../../lib/auth/change-password';
import { hashPassword, verifyPassword } from '../../../lib/auth/password';
import { blocklistedMessage } from '../../../lib/auth/password-policy';
import { signInWithPassword } from '../../../lib/auth/sign-in';
import { manualClock } from '../../../lib/clock';
import { isValidationError } from '../../../lib/errors/brand';
import { dialects } from '../support/dialects';
import { enrollTotp, freshDbPair, freshlyVerified, office, signedIn } from '../factors/support';

const start = Date.UTC(2026, 11, 3, 9, 0, 0);

/*
 * The password rules (NIST SP 800-63B rev 4) wherever a password is set, and NFKC at sign-in.
 * Personas:
 * - Ada the admin creates accounts (through the same service as the console, API and CLI).
 * - Bea wants "Password123456789", which is on the shipped blocklist.
 * - Élodie's password has accents; her keyboard sends them composed, her phone decomposed.
 * - Lev's password was hashed before NFKC, in its raw full-width form.
 * - Tia has a TOTP device, so 8 characters are enough for her; Otto has only his password.
 */
describe.each(dialects)('password rules on %s', (dialect) => {
  let db: Db;
  let other: Db;
  const clock = manualClock(start);

  const userCount = async () => (await db.kysely.selectFrom('users').select('id').execute()).length;
  const fieldErrors = async (input: unknown) => {
    try {
      await createUser(db.kysely, input, cliActor, clock);
    } catch (err) {
      if (isValidationError(err)) return err.fieldErrors;
      throw err;
    }
    throw new Error('createUser accepted it');
  };
  const storedHash = async (id: string) =>
    (await db.kysely.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash!;

  beforeEach(async () => {
    clock.set(start);
    [db, other] = await freshDbPair(dialect);
  });
  afterEach(async () => {
    await other.close();
    await db.close();
  });

  it('Ada cannot give Bea a blocklisted password: refused with the message, in any case, and nothing is created', async () => {
    for (const password of ['Password123456789', 'PASSWORD123456789', 'ｐａｓｓｗｏｒｄ123456789']) {
      expect(await fieldErrors({ username: 'bea', password, state: 'active' }), password).toEqual({ password: [blocklistedMessage] });
    }
    expect(await userCount()).toBe(0);
  });

  it('a new account has no second factor yet, so Ada must choose 15 characters; 15 emoji are 15', async () => {
    expect(await fieldErrors({ username: 'otto', password: 'fourteen chars', state: 'active' })).toEqual({
      password: ['Use at least 15 characters because it is the only thing protecting the account until a second factor is set up.'],
    });
    // Every bad field is listed at once, the password's with the others'.
    expect(Object.keys(await fieldErrors({ username: 'bad name!', password: 'short', state: 'deleted' })).sort()).toEqual(['password', 'state', 'username']);
    await createUser(db.kysely, { username: 'otto', password: '🦊🐢🐙🦉🐝🦋🐌🐞🦊🐢🐙🦉🐝🦋🐌', state: 'active' }, cliActor, clock);
    expect(await userCount()).toBe(1);
  });

  it('Élodie, whose password was set composed, signs in with its decomposed form (and the hash is of the NFKC form)', async () => {
    const composed = 'crème brûlée à la française';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    const { id } = await createUser(db.kysely, { username: 'elodie', password: composed, state: 'active' }, cliActor, clock);
    expect(await verifyPassword(await storedHash(id), composed.normalize('NFKC'))).toBe(true);
    expect(await signInWithPassword(db.kysely, { username: 'elodie', password: decomposed }, office, clock)).toMatchObject({ ok: true });
    expect(await signInWithPassword(db.kysely, { username: 'elodie', password: composed }, office, clock)).toMatchObject({ ok: true });
    expect(await signInWithPassword(db.kysely, { username: 'elodie', password: 'creme brulee a la francaise' }, office, clock)).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
  });

  it('Lev, whose hash predates NFKC (of the raw full-width form), still signs in with what he always typed', async () => {
    const raw = 'ｌｅｖ’ｓ ｆｕｌｌ ｗｉｄｔｈ ｐａｓｓ';
    expect(raw.normalize('NFKC')).not.toBe(raw);
    const { id } = await createUser(db.kysely, { username: 'lev', state: 'active' }, cliActor, clock);
    await setUserPasswordHash(db.kysely, id, await hashPassword(raw));
    expect(await signInWithPassword(db.kysely, { username: 'lev', password: raw }, office, clock)).toMatchObject({ ok: true });
    expect(await signInWithPassword(db.kysely, { username: 'lev', password: 'ｌｅｖ’ｓ ｆｕｌｌ ｗｉｄｔｈ ｐａｓ' }, office, clock)).toMatchObject({ ok: false });
  });

  it('changing one’s password refuses a blocklisted one and keeps the old; 8 characters do beside a factor, not without', async () => {
    const { id: tia } = await createUser(db.kysely, { username: 'tia', password: 'correct horse battery', state: 'active' }, cliActor, clock);
    await enrollTotp(db, tia, clock);
    const { session } = await freshlyVerified(db, tia, clock);
    const change = (newPassword: string, currentPassword = 'correct horse battery') =>
      changeOwnPassword(db.kysely, session, { currentPassword, newPassword }, office, clock);

    expect(await change('BaseBall')).toEqual({ ok: false, reason: 'refused_password', refusal: 'blocklisted', message: blocklistedMessage });
    expect(await change('Password123456789')).toMatchObject({ ok: false, refusal: 'blocklisted' });
    expect(await verifyPassword(await storedHash(tia), 'correct horse battery')).toBe(true);
    expect(await change('seven c')).toMatchObject({ ok: false, refusal: 'too_short' });
    expect(await change('ｔｉａ ８ ｃｈ')).toEqual({ ok: true });
    expect(await verifyPassword(await storedHash(tia), 'tia 8 ch')).toBe(true);

    const { id: otto } = await createUser(db.kysely, { username: 'otto', password: 'correct horse battery', state: 'active' }, cliActor, clock);
    const alone = (await signedIn(db, otto, clock)).session;
    expect(await changeOwnPassword(db.kysely, alone, { currentPassword: 'correct horse battery', newPassword: 'otto 8 c' }, office, clock)).toMatchObject({
      ok: false,
      refusal: 'too_short',
      message: expect.stringContaining('15 characters'),
    });
    // The current password is checked in its NFKC form too.
    expect(
      await changeOwnPassword(db.kysely, alone, { currentPassword: 'ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ', newPassword: 'ottos own long passphrase' }, office, clock),
    ).toEqual({ ok: true });
  });
});
