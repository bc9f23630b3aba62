import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneHour, oneMinute } from '../../../lib/clock';
import { createUser } from '../../../lib/admin/users';
import { cliActor } from '../../../lib/admin/actor';
import { passwordResetValidityMs } from '../../../lib/auth/account-tokens';
import {
  requestPasswordReset,
  resetLinksPerAccount,
  resetRequestAnswer,
  resetRequestsPerAddress,
} from '../../../lib/auth/password-reset-request';
import { signInWithPassword } from '../../../lib/auth/sign-in';
import { dialects, freshDb } from '../support/dialects';
import { seed } from '../mail/support/world';


// Links are derived under the app secret; never let a test write one into ./data.
process.env.PORTCULLIS_SECRET ??= 'integration-test-secret-0123456789abcdef';
/*
 * "Forgot password?" (issue 15 §2, ASVS 6.3.8, R-I2). Personas:
 * - Rex: active, rex@example.com, knows his password (and forgot it anyway).
 * - Sid: staged; Sue: suspended; Nia: active with no email address.
 * - Pam and Pia: active, sharing family@example.com; Pat: suspended, same address.
 * - "nobody": no such account.
 * Mallory asks from 203.0.113.66; Rex from home, 198.51.100.20.
 */
const start = Date.UTC(2026, 11, 3, 9, 0, 0);
const rexPassword = 'rex remembers this one after all';
const mallory = { ip: '203.0.113.66' };
const home = { ip: '198.51.100.20' };

describe.each(dialects)('asking for a password reset link on %s', (dialect) => {
  let db: Db;
  let ids: Record<string, string>;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    ids = await seed(db, clock, [
      { username: 'sid', state: 'staged' },
      { username: 'sue', state: 'suspended' },
      { username: 'nia', email: null },
      { username: 'pam', email: 'family@example.com' },
      { username: 'pia', email: 'Family@Example.com' },
      { username: 'pat', email: 'family@example.com', state: 'suspended' },
    ]);
    ids.rex = (await createUser(db.kysely, { username: 'Rex', email: 'rex@example.com', password: rexPassword, state: 'active' }, cliActor, clock)).id;
    await db.kysely.deleteFrom('audit_log').execute();
  });
  afterEach(async () => {
    await db.close();
  });

  const ask = (identifier: unknown, client = home) => requestPasswordReset(db.kysely, { identifier }, client, clock);
  const askAndFollow = async (identifier: unknown, client = home) => (await ask(identifier, client)).followUp();

  /** Everything a request can write but its own address counter. */
  async function visibleState() {
    const [tokens, mail, audit, sessions, throttles] = await Promise.all([
      db.kysely.selectFrom('account_tokens').select(['user_id', 'purpose', 'expires_at', 'created_by']).orderBy('created_at').execute(),
      db.kysely.selectFrom('mail_outbox').select(['user_id', 'kind', 'to_address', 'status']).orderBy('created_at').execute(),
      db.kysely.selectFrom('audit_log').select(['action', 'target_id', 'actor_id', 'client_ip']).orderBy('id').execute(),
      db.kysely.selectFrom('sessions').select('id').execute(),
      db.kysely.selectFrom('auth_throttle').select(['key', 'failures', 'blocked_until']).orderBy('key').execute(),
    ]);
    return { tokens, mail, audit, sessions, throttles: throttles.map((t) => ({ ...t, failures: Number(t.failures), blocked_until: Number(t.blocked_until) })) };
  }

  it('answers every well-formed request alike before any lookup: unknown, staged, suspended, no email, known', async () => {
    const names = ['nobody', 'sid', 'sue', 'nia', 'rex', 'nobody@example.com', 'rex@example.com'];
    const answers = [];
    for (const [i, name] of names.entries()) {
      const before = await visibleState();
      const request = await ask(name, { ip: `192.0.2.${i + 1}` });
      answers.push(request.result);
      const after = await visibleState();
      // The only write before the answer is this address's counter, the same row for every name.
      expect(after.tokens).toEqual(before.tokens);
      expect(after.mail).toEqual(before.mail);
      expect(after.audit).toEqual(before.audit);
      expect(after.throttles).toEqual([...before.throttles, { key: `reset-address:192.0.2.${i + 1}`, failures: 1, blocked_until: 0 }].sort((a, b) => a.key.localeCompare(b.key)));
      await request.followUp();
    }
    expect(new Set(answers.map((a) => JSON.stringify(a)))).toEqual(new Set([JSON.stringify({ ok: true })]));
    expect(resetRequestAnswer).toBe('If an account matches, we sent a link to its email address. It works for 30 minutes.');
  });

  it('only Rex (active, with an address) gets a link: by username in any case, or by email; the others get nothing, silently', async () => {
    for (const name of ['nobody', 'sid', 'sue', 'nia', 'NOBODY@example.com']) {
      expect(await askAndFollow(name)).toEqual({ sent: 0, accountThrottled: 0, addressThrottled: false });
    }
    expect((await visibleState()).tokens).toEqual([]);
    expect((await visibleState()).mail).toEqual([]);

    expect(await askAndFollow('  rEX ')).toEqual({ sent: 1, accountThrottled: 0, addressThrottled: false });
    clock.advance(oneMinute);
    expect(await askAndFollow('REX@example.COM')).toEqual({ sent: 1, accountThrottled: 0, addressThrottled: false });
    const state = await visibleState();
    expect(state.tokens).toEqual([
      { user_id: ids.rex, purpose: 'password_reset', expires_at: expect.anything(), created_by: null },
      { user_id: ids.rex, purpose: 'password_reset', expires_at: expect.anything(), created_by: null },
    ]);
    expect(Number(state.tokens[1]!.expires_at)).toBe(clock.now() + passwordResetValidityMs);
    expect(state.mail).toEqual([
      { user_id: ids.rex, kind: 'password_reset', to_address: 'rex@example.com', status: 'pending' },
      { user_id: ids.rex, kind: 'password_reset', to_address: 'rex@example.com', status: 'pending' },
    ]);
    expect(state.audit).toEqual([
      { action: 'auth.password_reset_requested', target_id: ids.rex, actor_id: null, client_ip: home.ip },
      { action: 'auth.password_reset_requested', target_id: ids.rex, actor_id: null, client_ip: home.ip },
    ]);
    // The newer link voided the older one: one usable link at a time.
    const open = await db.kysely.selectFrom('account_tokens').select('id').where('voided_at', 'is', null).execute();
    expect(open).toHaveLength(1);
  });

  it('an address Pam and Pia share gets a link for each of them, not for suspended Pat', async () => {
    expect(await askAndFollow('family@EXAMPLE.com')).toEqual({ sent: 2, accountThrottled: 0, addressThrottled: false });
    const mail = (await visibleState()).mail.map((m) => m.user_id).sort();
    expect(mail).toEqual([ids.pam, ids.pia].sort());
  });

  it(`at most ${resetLinksPerAccount.max} links an hour reach Rex, from any number of addresses; his password works throughout`, async () => {
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await askAndFollow('rex', { ip: `192.0.2.${i + 1}` }));
    expect(results.map((r) => r.sent)).toEqual([1, 1, 1, 0, 0, 0]);
    expect(results.map((r) => r.accountThrottled)).toEqual([0, 0, 0, 1, 1, 1]);
    expect((await visibleState()).mail).toHaveLength(resetLinksPerAccount.max);

    // A request never locks Rex out: his current password still signs him in at once.
    const signIn = await signInWithPassword(db.kysely, { username: 'rex', password: rexPassword }, { ip: home.ip, userAgent: null }, clock);
    expect(signIn).toMatchObject({ ok: true, userId: ids.rex });

    clock.advance(oneHour);
    expect(await askAndFollow('rex', mallory)).toMatchObject({ sent: 1 });
  });

  it(`past ${resetRequestsPerAddress.max} requests in 15 minutes Mallory's address gets the same answer and nothing is looked up or sent`, async () => {
    const victims = ['pam', 'pia', 'rex', 'nobody'];
    for (let i = 0; i < resetRequestsPerAddress.max; i++) {
      const request = await ask(victims[i % victims.length], mallory);
      expect(request.result).toEqual({ ok: true });
      expect((await request.followUp()).addressThrottled).toBe(false);
    }
    const mailBefore = (await visibleState()).mail.length;
    for (const name of victims) {
      const request = await ask(name, mallory);
      expect(request.result).toEqual({ ok: true });
      expect(await request.followUp()).toEqual({ sent: 0, accountThrottled: 0, addressThrottled: true });
    }
    expect((await visibleState()).mail).toHaveLength(mailBefore);
    // The reset counter is not the sign-in one: Rex signs in even from Mallory's address.
    expect(await signInWithPassword(db.kysely, { username: 'rex', password: rexPassword }, { ip: mallory.ip, userAgent: null }, clock)).toMatchObject({ ok: true });
    clock.advance(15 * oneMinute);
    expect((await ask('pam', mallory)).result).toEqual({ ok: true });
  });

  it('refuses an empty or oversized name as invalid, and sends nothing', async () => {
    for (const bad of ['', '   ', 'x'.repeat(255), null, 42, ['rex']]) {
      const request = await ask(bad);
      expect(request.result).toEqual({ ok: false, reason: 'invalid' });
      expect(await request.followUp()).toEqual({ sent: 0, accountThrottled: 0, addressThrottled: false });
    }
    expect((await visibleState()).mail).toEqual([]);
  });
});
