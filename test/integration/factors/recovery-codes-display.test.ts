import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import { pendingSetupTtlMs, type PendingRecoveryCodes } from '../../../lib/auth/pending-setup';
import { recoveryCodesText, takeRecoveryCodesToShow } from '../../../lib/factors/recovery-codes-display';
import { dialects } from '../support/dialects';
import { freshDbPair, newUser } from './support';

const start = Date.UTC(2026, 11, 3, 9, 0);
const codes = ['0a1b-2c3d-4e5f-6g7h', '8j9k-mnpq-rstv-wxyz'];

/*
 * Nina just set up her authenticator app; her codes ride in a sealed cookie for ten minutes.
 * The page that shows them spends the cookie's nonce: her reload, a second tab, or a copy of
 * the cookie on another instance shows nothing more.
 */
describe.each(dialects)('recovery codes are shown once, on %s', (dialect) => {
  let db: Db;
  let other: Db;
  let nina: string;
  const clock = manualClock(start);
  const pending = (nonce: string): PendingRecoveryCodes => ({ userId: nina, codes, cause: 'totp', nonce, expiresAt: clock.now() + pendingSetupTtlMs });

  beforeEach(async () => {
    clock.set(start);
    [db, other] = await freshDbPair(dialect);
    nina = await newUser(db, 'nina', clock);
  });
  afterEach(async () => {
    await other.close();
    await db.close();
  });

  it('the first render shows them, a reload (another instance) shows nothing', async () => {
    const cookie = pending('nonce-1');
    expect(await takeRecoveryCodesToShow(db.kysely, cookie, clock)).toEqual({ codes, cause: 'totp' });
    expect(await takeRecoveryCodesToShow(other.kysely, cookie, clock)).toBeNull();
    expect(await takeRecoveryCodesToShow(db.kysely, cookie, clock)).toBeNull();
  });

  it('of two parallel renders exactly one shows them', async () => {
    const cookie = pending('nonce-2');
    const results = await Promise.all([takeRecoveryCodesToShow(db.kysely, cookie, clock), takeRecoveryCodesToShow(other.kysely, cookie, clock)]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
  });

  it('a new set (a new cookie, a new nonce) is shown once in its turn; no cookie shows nothing', async () => {
    expect(await takeRecoveryCodesToShow(db.kysely, pending('nonce-3'), clock)).not.toBeNull();
    expect(await takeRecoveryCodesToShow(db.kysely, { ...pending('nonce-4'), cause: 'regenerated' }, clock)).toEqual({ codes, cause: 'regenerated' });
    expect(await takeRecoveryCodesToShow(db.kysely, null, clock)).toBeNull();
  });

  it('the download names the account and lists one code a line', () => {
    expect(recoveryCodesText('nina', codes, '3 Dec 2026, 09:00 UTC').split('\n')).toEqual([
      'Portcullis recovery codes for nina',
      'Made 3 Dec 2026, 09:00 UTC. Each code works once; a new set voids these.',
      '',
      ...codes,
      '',
    ]);
  });
});
