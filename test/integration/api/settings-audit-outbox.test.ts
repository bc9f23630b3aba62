import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oneMinute } from '../../../lib/clock';
import { queueEnrollmentStartedMessages } from '../../../lib/mail/start-notices';
import type { OutboxLister } from '../../../lib/api/routes';
import { dialects } from '../support/dialects';
import { apiWorld, expectJson, expectProblem, iso, start, type ApiWorld } from './support';

const duo = {
  clientId: 'DIXXXXXXXXXXXXXXXXXX',
  clientSecret: 'x'.repeat(40),
  apiHost: 'api-12345678.duosecurity.com',
  redirectUri: 'https://mfa.example.test/mfa/duo/callback',
};

describe.each(dialects)('settings, audit and outbox over the API on %s', (dialect) => {
  let world: ApiWorld;

  beforeEach(async () => {
    world = await apiWorld(dialect);
  });
  afterEach(async () => {
    await world.close();
  });

  describe('/settings/mfa', () => {
    it('reads the defaults and saves TOTP + WebAuthn + Duo, never echoing the secret', async () => {
      expect(await expectJson(await world.call('GET', '/settings/mfa', { key: world.readKey }), 200)).toEqual({
        totp: true,
        webauthn: false,
        duo: false,
        challengeEnrolled: true,
        adminReverifyMinutes: 720,
        duoConfig: { clientId: null, apiHost: null, redirectUri: null, hasSecret: false },
        updatedAt: null,
      });
      const saved = await expectJson(await world.call('PUT', '/settings/mfa', { body: { totp: true, webauthn: true, duo: true, duoConfig: duo } }), 200);
      expect(saved).toMatchObject({ totp: true, webauthn: true, duo: true, duoConfig: { clientId: duo.clientId, hasSecret: true }, updatedAt: iso(start) });
      expect(JSON.stringify(saved)).not.toContain(duo.clientSecret);
      expect(JSON.stringify(await expectJson(await world.call('GET', '/settings/mfa'), 200))).not.toContain(duo.clientSecret);
    });

    it('accepts a PUT of exactly what GET returned, before and after Duo is configured', async () => {
      const unset = await expectJson(await world.call('GET', '/settings/mfa'), 200);
      await expectJson(await world.call('PUT', '/settings/mfa', { body: unset }), 200);
      // GET's document with Duo filled in (hasSecret still says false: what was stored) is accepted.
      const fresh = await expectJson(await world.call('GET', '/settings/mfa'), 200);
      await expectJson(await world.call('PUT', '/settings/mfa', { body: { ...fresh, webauthn: true, duo: true, duoConfig: { ...fresh.duoConfig, ...duo } } }), 200);
      world.clock.advance(oneMinute);
      const configured = await expectJson(await world.call('GET', '/settings/mfa'), 200);
      const again = await expectJson(await world.call('PUT', '/settings/mfa', { body: { ...configured, challengeEnrolled: false } }), 200);
      expect(again).toMatchObject({ challengeEnrolled: false, duoConfig: { hasSecret: true, clientId: duo.clientId }, updatedAt: iso(start + oneMinute) });
      const stale = await expectProblem(await world.call('PUT', '/settings/mfa', { body: configured }), 400);
      expect(Object.keys(stale.errors)).toEqual(['updatedAt']);
    });

    it('refuses WebAuthn alone (R-A2), missing switches and unknown settings', async () => {
      const alone = await expectProblem(await world.call('PUT', '/settings/mfa', { body: { totp: false, webauthn: true, duo: false } }), 400);
      expect(alone.errors.webauthn[0]).toContain('WebAuthn cannot be the only enabled method');
      expect(Object.keys((await expectProblem(await world.call('PUT', '/settings/mfa', { body: {} }), 400)).errors).sort()).toEqual(['duo', 'totp', 'webauthn']);
      await expectProblem(await world.call('PUT', '/settings/mfa', { body: { totp: true, webauthn: false, duo: false, sms: true } }), 400);
      await expectProblem(await world.call('PUT', '/settings/mfa', { body: { totp: true, webauthn: false, duo: true } }), 400);
    });
  });

  describe('/audit', () => {
    beforeEach(async () => {
      await expectJson(await world.call('POST', '/groups', { body: { name: 'Alpha' } }), 201);
      world.clock.advance(oneMinute);
      const ada = await world.user('ada');
      await expectJson(await world.call('POST', '/users/mfa/require', { body: { userIds: [ada] } }), 200);
    });

    it('lists entries newest first with actor, action, target and address', async () => {
      const page = await expectJson(await world.call('GET', '/audit', { key: world.readKey }), 200);
      expect(page.entries.map((e: any) => e.action)).toEqual(['mfa.required', 'user.created', 'group.created', 'api_key.created', 'api_key.created']);
      expect(page.entries[0]).toMatchObject({
        at: iso(start + oneMinute),
        actor: { id: null, label: 'api-key:ops-automation' },
        target: { type: 'user', id: expect.any(String) },
        details: expect.objectContaining({ enrollmentDays: 7 }),
        clientIp: 'unknown',
      });
    });

    it('filters by actor, action and target, and pages by cursor', async () => {
      const byActor = await expectJson(await world.call('GET', '/audit?actor=api-key:ops-automation'), 200);
      expect(byActor.entries.map((e: any) => e.action)).toEqual(['mfa.required', 'group.created']);
      const byAction = await expectJson(await world.call('GET', '/audit?action=group.created'), 200);
      expect(byAction.entries).toHaveLength(1);
      const target = byAction.entries[0].target;
      const byTarget = await expectJson(await world.call('GET', `/audit?targetType=${target.type}&targetId=${target.id}`), 200);
      expect(byTarget.entries.map((e: any) => e.id)).toEqual([byAction.entries[0].id]);
      const first = await expectJson(await world.call('GET', '/audit?limit=2'), 200);
      const second = await expectJson(await world.call('GET', `/audit?limit=2&cursor=${first.nextCursor}`), 200);
      const third = await expectJson(await world.call('GET', `/audit?limit=2&cursor=${second.nextCursor}`), 200);
      expect([...first.entries, ...second.entries, ...third.entries].map((e: any) => e.id)).toEqual(
        (await expectJson(await world.call('GET', '/audit'), 200)).entries.map((e: any) => e.id),
      );
      expect(third.nextCursor).toBeNull();
    });

    it('filters by a time range: UTC days (both included) or RFC 3339 times', async () => {
      const minuteLater = encodeURIComponent(iso(start + oneMinute));
      expect((await expectJson(await world.call('GET', `/audit?from=${minuteLater}`), 200)).entries.map((e: any) => e.action)).toEqual(['mfa.required', 'user.created']);
      expect((await expectJson(await world.call('GET', '/audit?from=2026-11-02&to=2026-11-02'), 200)).entries).toHaveLength(5);
      expect((await expectJson(await world.call('GET', '/audit?to=2026-11-01'), 200)).entries).toEqual([]);
      const backwards = await expectProblem(await world.call('GET', '/audit?from=2026-11-03&to=2026-11-02'), 400);
      expect(backwards.errors).toEqual({ to: ['To must not be before From.'] });
      await expectProblem(await world.call('GET', '/audit?from=tomorrow'), 400);
    });

    it('refuses unknown filters, bad limits and forged cursors', async () => {
      for (const query of ['details=x', 'limit=0', 'limit=201', 'action=DROP%20TABLE', 'cursor=abc!', `cursor=${Buffer.from('{"v":1,"id":-5}').toString('base64url')}`]) {
        await expectProblem(await world.call('GET', `/audit?${query}`), 400);
      }
    });
  });

  describe('/outbox', () => {
    it('lists the emails the services queued (R-B5), newest first, with filters and pages', async () => {
      expect(await expectJson(await world.call('GET', '/outbox', { key: world.readKey }), 200)).toEqual({ messages: [], nextCursor: null });
      const ada = await world.user('ada', 'active', { email: 'ada@example.org' });
      const bob = await world.user('bob', 'active', { email: 'bob@example.org' });
      await expectJson(await world.call('POST', '/users/mfa/require', { body: { userIds: [ada, bob] } }), 200);
      // The change marks the two periods; the mail worker's next round queues their messages.
      expect((await expectJson(await world.call('GET', '/outbox'), 200)).messages).toEqual([]);
      await queueEnrollmentStartedMessages(world.db.kysely, world.clock);
      const all = await expectJson(await world.call('GET', '/outbox'), 200);
      expect(all.messages).toHaveLength(2);
      expect(all.messages.map((m: any) => m.to).sort()).toEqual(['ada@example.org', 'bob@example.org']);
      expect(all.messages[0]).toMatchObject({ status: 'pending', createdAt: iso(start) });
      expect((await expectJson(await world.call('GET', '/outbox?status=sent'), 200)).messages).toEqual([]);
      const first = await expectJson(await world.call('GET', '/outbox?status=pending&limit=1'), 200);
      const second = await expectJson(await world.call('GET', `/outbox?status=pending&limit=1&cursor=${first.nextCursor}`), 200);
      expect([...first.messages, ...second.messages].map((m: any) => m.id)).toEqual(all.messages.map((m: any) => m.id));
      expect(second.nextCursor).toBeNull();
    });

    it('refuses unknown statuses and filters, bad limits and forged cursors', async () => {
      for (const query of ['status=everything', 'limit=0', 'limit=201', 'limit=7.5', 'to=ada', 'cursor=bm90LWEtY3Vyc29y', 'status=sent&status=failed']) {
        await expectProblem(await world.call('GET', `/outbox?${query}`), 400);
      }
    });

    it('passes validated filters to listOutbox and returns its page', async () => {
      const calls: unknown[] = [];
      const listOutbox: OutboxLister = async (_db, input) => {
        calls.push(input);
        return { messages: [{ id: 'm1', to: 'ada@example.org', createdAt: start }], nextCursor: null };
      };
      const wired = await (await import('./support')).apiWorld(dialect, { listOutbox });
      try {
        const page = await expectJson(await wired.call('GET', '/outbox?status=failed&limit=10', { key: wired.readKey }), 200);
        expect(page).toEqual({ messages: [{ id: 'm1', to: 'ada@example.org', createdAt: iso(start) }], nextCursor: null });
        expect(calls).toEqual([{ status: 'failed', limit: 10 }]);
        await expectProblem(await wired.call('GET', '/outbox?status=everything'), 400);
        await expectProblem(await wired.call('GET', '/outbox?limit=500'), 400);
      } finally {
        await wired.close();
      }
    });
  });
});
