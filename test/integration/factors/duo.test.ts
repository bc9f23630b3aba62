import https from 'node:https';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { cliActor } from '../../../lib/admin/actor';
import { saveMfaSettings } from '../../../lib/admin/mfa-settings';
import { manualClock, oneMinute } from '../../../lib/clock';
import { validateSession, type SessionContext } from '../../../lib/auth/sessions';
import { duoStateTtlMs, type PendingDuo } from '../../../lib/factors/ceremony';
import { completeDuo, loadDuoClientConfig, sealDuoClientSecret, startDuo, type DuoOptions } from '../../../lib/factors/duo';
import { startFakeDuo, type FakeDuo } from '../../fakes/duo/server';
import { trustingDuoClient } from '../../fakes/duo/trust';
import { dialects } from '../support/dialects';
import { metrics } from '../../../lib/metrics/registry';
import { freshDbPair, newUser, office, signedIn } from './support';

/*
 * Duo Universal Prompt through the official client against the fake Duo service (HTTPS,
 * self-signed certificate made at start). Personas: Alice signs in with Duo; Mallory has
 * a Duo account too, and tries to pass her own approval off as Alice's.
 */
const redirectUri = 'https://mfa.example.com/mfa/duo/callback';

let fake: FakeDuo;
beforeAll(async () => {
  fake = await startFakeDuo();
});
afterAll(async () => {
  await fake.close();
});

/** What the browser does at Duo: follow the authorization URL and read where Duo sends it back. */
function visitDuo(url: string): Promise<URL> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: fake.ca }, (res) => {
      res.resume();
      if (res.statusCode !== 302 || !res.headers.location) return reject(new Error(`Duo answered ${res.statusCode}`));
      resolve(new URL(res.headers.location));
    });
    req.on('error', reject);
  });
}

/** A series' value in the process's metrics (/metrics), 0 while absent. */
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = (await metrics().registry.getMetricsAsJSON()).find((m) => m.name === name);
  const sample = (found?.values ?? []).find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return sample?.value ?? 0;
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe.each(dialects)('Duo Universal Prompt on %s', (dialect) => {
  let db: Db;
  let other: Db;
  let alice: string;
  const clock = manualClock(Date.now());
  const duo: DuoOptions = {};

  async function configureDuo(apiHost = fake.apiHost, clientSecret = fake.clientSecret) {
    await saveMfaSettings(
      db.kysely,
      { totp: true, webauthn: false, duo: true, duoConfig: { clientId: fake.clientId, clientSecret, apiHost, redirectUri } },
      cliActor,
      clock,
      { sealSecret: (plain) => sealDuoClientSecret(plain) },
    );
  }

  beforeEach(async () => {
    clock.set(Date.now());
    fake.mode = 'ok';
    fake.outcome.clear();
    fake.calls.length = 0;
    duo.clientFactory = trustingDuoClient(fake.ca);
    duo.timeoutMs = 2_000;
    [db, other] = await freshDbPair(dialect);
    alice = await newUser(db, 'alice', clock);
    await newUser(db, 'mallory', clock);
    await configureDuo();
  });
  afterEach(async () => {
    await other.close();
    await db.close();
  });

  async function start(session: SessionContext, options = duo) {
    const started = await startDuo(db.kysely, session, { returnTo: '/portal', fresh: false }, office, clock, options);
    if (!started.ok) throw new Error(`Duo did not start: ${started.reason} ${started.detail ?? ''}`);
    return started;
  }

  async function roundTrip(session: SessionContext) {
    const { url, pending } = await start(session);
    const back = await visitDuo(url);
    return { pending, back, state: back.searchParams.get('state'), code: back.searchParams.get('duo_code') };
  }

  async function audit(action: string): Promise<Record<string, unknown>[]> {
    const rows = await db.kysely.selectFrom('audit_log').select('details').where('action', '=', action).orderBy('id').execute();
    return rows.map((r) => JSON.parse(r.details ?? '{}'));
  }

  it('keeps the client secret sealed at rest and opens it for the client', async () => {
    const row = await db.kysely.selectFrom('mfa_settings').selectAll().executeTakeFirstOrThrow();
    expect(row.duo_client_secret_enc).not.toContain(fake.clientSecret);
    expect(await loadDuoClientConfig(db.kysely)).toEqual({ clientId: fake.clientId, clientSecret: fake.clientSecret, apiHost: fake.apiHost, redirectUrl: redirectUri });
  });

  it('round trip: health check, the session’s username to Duo, back with an allow, session elevated and rotated', async () => {
    const calls = 'portcullis_duo_calls_total';
    const before = [
      await metric(calls, { call: 'health_check', outcome: 'ok' }),
      await metric(calls, { call: 'token', outcome: 'ok' }),
      await metric('portcullis_second_factor_verifications_total', { method: 'duo', outcome: 'ok' }),
    ];
    const { token, session } = await signedIn(db, alice, clock);
    const { pending, back, state, code } = await roundTrip(session);
    expect(back.origin + back.pathname).toBe(redirectUri);
    expect(state).toBe(pending.state);
    expect(pending.state.length).toBeGreaterThanOrEqual(43); // 256 bits
    expect(pending).toMatchObject({ userId: alice, returnTo: '/portal', expiresAt: clock.now() + duoStateTtlMs });
    expect(fake.calls.map((c) => [c.endpoint, c.ok, c.username])).toEqual([
      ['health_check', true, undefined],
      ['authorize', true, 'alice'],
    ]);

    clock.advance(oneMinute);
    const result = await completeDuo(db.kysely, session, pending, { state, code }, office, clock, duo);
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(fake.calls.at(-1)).toEqual({ endpoint: 'token', ok: true, username: 'alice' });
    expect(await validateSession(db, token, clock)).toBeNull();
    expect(await validateSession(db, result.token, clock)).toMatchObject({ aal: 2, amr: [expect.objectContaining({ method: 'pwd' }), expect.objectContaining({ method: 'duo' })], secondFactorAt: clock.now() });
    expect(await audit('mfa.verify_succeeded')).toEqual([{ method: 'duo' }]);
    // For the operator (/metrics): each call to Duo and the verification counted, Duo up.
    expect([
      await metric(calls, { call: 'health_check', outcome: 'ok' }),
      await metric(calls, { call: 'token', outcome: 'ok' }),
      await metric('portcullis_second_factor_verifications_total', { method: 'duo', outcome: 'ok' }),
    ]).toEqual(before.map((n) => n + 1));
    expect(await metric('portcullis_duo_up')).toBe(1);
  });

  describe('the state', () => {
    it('must match: a different state is refused and nothing is exchanged', async () => {
      const { session } = await signedIn(db, alice, clock);
      const { pending, code } = await roundTrip(session);
      const result = await completeDuo(db.kysely, session, pending, { state: `${pending.state.slice(0, -1)}x`, code }, office, clock, duo);
      expect(result).toEqual({ ok: false, reason: 'refused', detail: 'state_mismatch' });
      for (const state of [undefined, '', ['x'], pending.state.toUpperCase()]) {
        expect(await completeDuo(db.kysely, session, pending, { state, code }, office, clock, duo)).toMatchObject({ ok: false, reason: 'refused' });
      }
      expect(fake.calls.some((c) => c.endpoint === 'token')).toBe(false);
    });

    it('works once: the same state again is refused, even with a good code', async () => {
      const { session } = await signedIn(db, alice, clock);
      fake.outcome.set('alice', 'deny');
      const { pending, state, code } = await roundTrip(session);
      expect(await completeDuo(db.kysely, session, pending, { state, code }, office, clock, duo)).toMatchObject({ reason: 'refused', detail: 'result_deny' });
      fake.outcome.clear();
      const freshCode = fake.mintCode('alice', redirectUri);
      expect(await completeDuo(db.kysely, session, pending, { state, code: freshCode }, office, clock, duo)).toEqual({
        ok: false,
        reason: 'refused',
        detail: 'state_replayed',
      });
    });

    it('belongs to the session that started it, and expires', async () => {
      const bob = await signedIn(db, alice, clock); // another session of the same user
      const { session } = await signedIn(db, alice, clock);
      const { pending, state, code } = await roundTrip(bob.session);
      expect(await completeDuo(db.kysely, session, pending, { state, code }, office, clock, duo)).toMatchObject({ detail: 'foreign_state' });

      const late = await roundTrip(session);
      clock.advance(duoStateTtlMs);
      expect(await completeDuo(db.kysely, session, late.pending, { state: late.state, code: late.code }, office, clock, duo)).toMatchObject({
        detail: 'state_expired',
      });
      expect(await completeDuo(db.kysely, session, null, { state, code }, office, clock, duo)).toMatchObject({ detail: 'no_state' });
    });

    it('cannot be replayed after a success: the session id it was bound to is gone', async () => {
      const { session } = await signedIn(db, alice, clock);
      const { pending, state, code } = await roundTrip(session);
      const ok = await completeDuo(db.kysely, session, pending, { state, code }, office, clock, duo);
      expect(ok.ok).toBe(true);
      if (!ok.ok) return;
      const rotated = (await validateSession(db, ok.token, clock))!;
      const replay: PendingDuo = { ...pending };
      expect(await completeDuo(db.kysely, rotated, replay, { state, code }, office, clock, duo)).toMatchObject({ detail: 'foreign_state' });
    });
  });

  it('refuses a code that belongs to another user (Mallory’s approval presented for Alice)', async () => {
    const { token, session } = await signedIn(db, alice, clock);
    const { pending, state } = await roundTrip(session);
    const mallorys = fake.mintCode('mallory', redirectUri);
    const result = await completeDuo(db.kysely, session, pending, { state, code: mallorys }, office, clock, duo);
    expect(result).toEqual({ ok: false, reason: 'refused', detail: 'wrong_user' });
    expect(await validateSession(db, token, clock)).toMatchObject({ aal: 1 });
    expect(await audit('mfa.verify_failed')).toEqual([{ method: 'duo', reason: 'wrong_user' }]);
  });

  it('refuses a denied login, Duo’s error answer, a missing code and a code used before', async () => {
    const { session } = await signedIn(db, alice, clock);
    fake.outcome.set('alice', 'deny');
    let trip = await roundTrip(session);
    expect(await completeDuo(db.kysely, session, trip.pending, { state: trip.state, code: trip.code }, office, clock, duo)).toMatchObject({
      detail: 'result_deny',
    });
    fake.outcome.clear();

    trip = await roundTrip(session);
    expect(await completeDuo(db.kysely, session, trip.pending, { state: trip.state, code: null, error: 'access_denied' }, office, clock, duo)).toMatchObject({
      detail: 'duo_error:access_denied',
    });
    trip = await roundTrip(session);
    expect(await completeDuo(db.kysely, session, trip.pending, { state: trip.state, code: '' }, office, clock, duo)).toMatchObject({ detail: 'missing_code' });

    // A code that Duo already exchanged once.
    trip = await roundTrip(session);
    const used = trip.code!;
    const first = await completeDuo(db.kysely, session, trip.pending, { state: trip.state, code: used }, office, clock, duo);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    const next = (await validateSession(db, first.token, clock))!;
    trip = await roundTrip(next);
    expect(await completeDuo(db.kysely, next, trip.pending, { state: trip.state, code: used }, office, clock, duo)).toMatchObject({
      reason: 'refused',
      detail: 'code_rejected',
    });
  });

  describe('fails closed, with an audit entry', () => {
    it('when the health check says Duo is down', async () => {
      const { session } = await signedIn(db, alice, clock);
      fake.mode = 'down';
      expect(await startDuo(db.kysely, session, { returnTo: '/portal', fresh: false }, office, clock, duo)).toEqual({
        ok: false,
        reason: 'unavailable',
        detail: 'http_503',
      });
      expect(await audit('mfa.duo_unavailable')).toEqual([{ method: 'duo', stage: 'health_check', reason: 'http_503' }]);
      expect(await metric('portcullis_duo_up')).toBe(0);
    });

    it('when Duo does not answer in time', async () => {
      const { session } = await signedIn(db, alice, clock);
      fake.mode = 'hang';
      const started = Date.now();
      const result = await startDuo(db.kysely, session, { returnTo: '/portal', fresh: false }, office, clock, { ...duo, timeoutMs: 300 });
      expect(result).toEqual({ ok: false, reason: 'unavailable', detail: 'timeout' });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await audit('mfa.duo_unavailable')).toEqual([{ method: 'duo', stage: 'health_check', reason: 'timeout' }]);
    });

    it('when Duo cannot be reached at all', async () => {
      await configureDuo(`127.0.0.1:${await closedPort()}`);
      const { session } = await signedIn(db, alice, clock);
      expect(await startDuo(db.kysely, session, { returnTo: '/portal', fresh: false }, office, clock, duo)).toMatchObject({
        reason: 'unavailable',
        detail: 'econnrefused',
      });
    });

    it('when the token endpoint fails', async () => {
      const { token, session } = await signedIn(db, alice, clock);
      const { pending, state, code } = await roundTrip(session);
      fake.mode = 'token_error';
      expect(await completeDuo(db.kysely, session, pending, { state, code }, office, clock, duo)).toEqual({
        ok: false,
        reason: 'unavailable',
        detail: 'http_500:server_error',
      });
      expect(await validateSession(db, token, clock)).toMatchObject({ aal: 1 });
      expect(await audit('mfa.duo_unavailable')).toEqual([{ method: 'duo', stage: 'token', reason: 'http_500:server_error' }]);
    });

    it('when Duo refuses our client credentials (a wrong client secret)', async () => {
      const { session } = await signedIn(db, alice, clock);
      const { pending, state, code } = await roundTrip(session);
      await configureDuo(fake.apiHost, 'x'.repeat(40));
      expect(await completeDuo(db.kysely, session, pending, { state, code }, office, clock, duo)).toEqual({
        ok: false,
        reason: 'unavailable',
        detail: 'http_400:invalid_client',
      });
    });

    it('and the production client, with only Duo’s pinned authorities, refuses the fake’s certificate', async () => {
      const { session } = await signedIn(db, alice, clock);
      const result = await startDuo(db.kysely, session, { returnTo: '/portal', fresh: false }, office, clock, { timeoutMs: 2_000 });
      expect(result).toMatchObject({ ok: false, reason: 'unavailable' });
      expect(result.ok ? '' : result.detail).toMatch(/self_signed|unable_to_verify|cert/);
      expect(fake.calls).toEqual([]);
    });
  });

  it('is not offered when Duo is switched off', async () => {
    await saveMfaSettings(db.kysely, { totp: true, webauthn: false, duo: false }, cliActor, clock, { sealSecret: sealDuoClientSecret });
    const { session } = await signedIn(db, alice, clock);
    expect(await startDuo(db.kysely, session, { returnTo: '/portal', fresh: false }, office, clock, duo)).toEqual({ ok: false, reason: 'not_enabled' });
  });
});
