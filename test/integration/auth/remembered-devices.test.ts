import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneDay, oneMinute } from '../../../lib/clock';
import { cliActor } from '../../../lib/admin/actor';
import { createPolicy } from '../../../lib/admin/policies';
import { resetTotpEnrollment } from '../../../lib/admin/mfa-requirements';
import { removeUserFactor } from '../../../lib/admin/user-factors';
import { forgetUserDevice, forgetUserDevices, userRememberedDevices } from '../../../lib/admin/user-devices';
import { accountTokenOf, issueAccountToken, passwordResetValidityMs } from '../../../lib/auth/account-tokens';
import { changeOwnPassword } from '../../../lib/auth/change-password';
import {
  deviceTokenHash,
  forgetAllRememberedDevices,
  forgetRememberedDevice,
  listRememberedDevices,
  presentedDevice,
  rememberDevice,
  rememberedDeviceTouchMs,
} from '../../../lib/auth/remembered-devices';
import { setPasswordByLink } from '../../../lib/auth/set-password-by-link';
import { removeFactor } from '../../../lib/factors/factors';
import { evaluateAccess } from '../../../lib/gate';
import { dialects } from '../support/dialects';
import { auditActions, enrollTotp, freshDbPair, freshlyVerified, newUser, office, signedIn } from '../factors/support';

/*
 * Issue 18 part 3, remembered devices, on both dialects. Tina (TOTP) ticks "don't ask again
 * on this device" on her laptop; Tom is another user. The token is stored only as its hash,
 * counts only for Tina, only while unexpired and not forgotten, and the gate lets her laptop
 * skip the challenge (R-D15) under a policy that allows remembering. Every change that must
 * end remembered devices (password change or reset, TOTP reset, factor removal by her or an
 * admin) forgets them all.
 */
const start = Date.UTC(2026, 11, 4, 9, 0, 0);
const laptop = { userAgent: office.userAgent, ip: office.ip };
const tinasPassword = 'correct horse battery';
const secret = 'a-test-secret-of-at-least-32-characters!!';

describe.each(dialects)('remembered devices on %s', (dialect) => {
  let db: Db;
  let other: Db;
  let tina: string;
  let tom: string;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    [db, other] = await freshDbPair(dialect);
    tina = await newUser(db, 'tina', clock);
    tom = await newUser(db, 'tom', clock);
    await enrollTotp(db, tina, clock);
  });
  afterEach(async () => {
    await other.close();
    await db.close();
  });

  const remember = (userId: string, days = 30, username = 'tina') =>
    rememberDevice(db.kysely, { userId, username }, { days, userAgent: laptop.userAgent, ip: laptop.ip }, clock);
  const deviceRows = (userId: string) =>
    db.kysely.selectFrom('remembered_devices').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
  const liveCount = async (userId: string) => (await listRememberedDevices(db.kysely, userId, clock)).length;

  describe('the device service', () => {
    it('stores only the hash, with the browser and OS it was made on, audits it, and the cookie lasts N days', async () => {
      const { id, token, maxAgeSeconds } = await remember(tina, 30);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
      expect(maxAgeSeconds).toBe(30 * 86_400);
      const [row] = await deviceRows(tina);
      expect(row).toMatchObject({ id, token_hash: deviceTokenHash(token), browser: 'chrome', os: 'linux', created_at: start, last_seen_at: start, forgotten_at: null });
      expect(row!.expires_at).toBe(start + 30 * oneDay);
      expect(JSON.stringify(row)).not.toContain(token);
      expect(await auditActions(db, 'mfa.device_remembered')).toEqual(['mfa.device_remembered']);
    });

    it('refuses N outside 1 … 90', async () => {
      await expect(remember(tina, 0)).rejects.toThrow();
      await expect(remember(tina, 91)).rejects.toThrow();
      expect(await deviceRows(tina)).toEqual([]);
    });

    it('a token counts only for its own user, only while unexpired, and a malformed one costs no query', async () => {
      const { token } = await remember(tina, 7);
      expect(await presentedDevice(other.kysely, tina, token, clock)).toEqual({ createdAt: start });
      expect(await presentedDevice(db.kysely, tom, token, clock)).toBeNull();
      expect(await presentedDevice(db.kysely, tina, 'not-a-token', clock)).toBeNull();
      expect(await presentedDevice(db.kysely, tina, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, clock)).toBeNull();
      clock.set(start + 7 * oneDay);
      expect(await presentedDevice(db.kysely, tina, token, clock)).toBeNull();
      expect(await liveCount(tina)).toBe(0);
    });

    it('moves last_seen_at at most once an hour', async () => {
      const { token } = await remember(tina);
      clock.advance(30 * oneMinute);
      await presentedDevice(db.kysely, tina, token, clock);
      expect((await deviceRows(tina))[0]!.last_seen_at).toBe(start);
      clock.advance(rememberedDeviceTouchMs);
      await presentedDevice(db.kysely, tina, token, clock);
      expect((await deviceRows(tina))[0]!.last_seen_at).toBe(clock.now());
    });

    it('forgets one (only the owner\'s) or all, audited, and a forgotten token never counts again', async () => {
      const first = await remember(tina);
      clock.advance(oneMinute);
      const second = await remember(tina);
      const tinaActor = { id: tina, label: 'tina', clientIp: laptop.ip };
      expect(await forgetRememberedDevice(db.kysely, tom, first.id, { id: tom, label: 'tom', clientIp: null }, clock)).toBe(false);
      expect(await forgetRememberedDevice(db.kysely, tina, first.id, tinaActor, clock)).toBe(true);
      expect(await forgetRememberedDevice(db.kysely, tina, first.id, tinaActor, clock)).toBe(false);
      expect(await presentedDevice(db.kysely, tina, first.token, clock)).toBeNull();
      expect((await listRememberedDevices(db.kysely, tina, clock)).map((d) => d.id)).toEqual([second.id]);
      expect(await forgetAllRememberedDevices(db.kysely, tina, tinaActor, clock)).toBe(1);
      expect(await presentedDevice(db.kysely, tina, second.token, clock)).toBeNull();
      expect(await auditActions(db, 'mfa.device_forgotten')).toEqual(['mfa.device_forgotten']);
      expect(await auditActions(db, 'mfa.devices_forgotten')).toEqual(['mfa.devices_forgotten']);
    });

    it('an admin (or the helpdesk) forgets them from the user\'s page, audited as by an admin', async () => {
      const one = await remember(tina);
      await remember(tina);
      expect((await userRememberedDevices(db.kysely, tina, clock)).length).toBe(2);
      await forgetUserDevice(db.kysely, tina, one.id, cliActor, clock);
      await expect(forgetUserDevice(db.kysely, tina, one.id, cliActor, clock)).rejects.toMatchObject({ what: 'device' });
      expect(await forgetUserDevices(db.kysely, tina, cliActor, clock)).toEqual({ forgotten: 1 });
      await expect(forgetUserDevices(db.kysely, 'no-such-user', cliActor, clock)).rejects.toMatchObject({ what: 'user' });
      const entries = await db.kysely.selectFrom('audit_log').select(['action', 'actor_label', 'details']).where('action', 'like', 'mfa.device%').orderBy('id').execute();
      expect(entries.map((e) => [e.action, e.actor_label, JSON.parse(String(e.details)).byAdmin])).toEqual([
        ['mfa.device_remembered', 'tina', undefined],
        ['mfa.device_remembered', 'tina', undefined],
        ['mfa.device_forgotten', 'cli', true],
        ['mfa.devices_forgotten', 'cli', true],
      ]);
    });
  });

  describe('the gate (R-D15)', () => {
    beforeEach(async () => {
      await createPolicy(db.kysely, { name: 'Portal remembers', enabled: true, resources: ['portal'], action: 'require_mfa', rememberDays: 14 }, cliActor, clock);
    });

    it('challenges Tina and offers 14 days; her device then lets her through; Tom\'s session with her cookie does not', async () => {
      const { token: session } = await signedIn(db, tina, clock);
      const first = await evaluateAccess(db, session, 'portal', { ...laptop, deviceToken: null }, clock);
      expect(first.decision).toMatchObject({ kind: 'challenge', rule: 'R-D3', rememberDays: 14 });

      const { token: device } = await remember(tina);
      clock.advance(10 * oneMinute);
      const again = await evaluateAccess(db, session, 'portal', { ...laptop, deviceToken: device }, clock);
      expect(again.decision).toEqual({ kind: 'allow', rule: 'R-D15', policy: { id: expect.any(String), name: 'Portal remembers' } });

      await enrollTotp(db, tom, clock);
      const { token: tomsSession } = await signedIn(db, tom, clock);
      const tomWithHerCookie = await evaluateAccess(db, tomsSession, 'portal', { ...laptop, deviceToken: device }, clock);
      expect(tomWithHerCookie.decision.kind).toBe('challenge');
    });

    it('a device older than the policy\'s N days, or forgotten, does nothing', async () => {
      const { token: device } = await remember(tina, 30);
      clock.advance(14 * oneDay);
      const { token: session } = await signedIn(db, tina, clock);
      expect((await evaluateAccess(db, session, 'portal', { ...laptop, deviceToken: device }, clock)).decision.kind).toBe('challenge');
      clock.set(start);
      const fresh = await remember(tina, 30);
      await forgetAllRememberedDevices(db.kysely, tina, cliActor, clock);
      const { token: later } = await signedIn(db, tina, clock);
      expect((await evaluateAccess(db, later, 'portal', { ...laptop, deviceToken: fresh.token }, clock)).decision.kind).toBe('challenge');
    });
  });

  describe('changes that forget every device', () => {
    const tinaHasDevices = async () => {
      await remember(tina);
      await remember(tina);
      expect(await liveCount(tina)).toBe(2);
    };

    it('Tina changes her password', async () => {
      await tinaHasDevices();
      const { session } = await freshlyVerified(db, tina, clock);
      expect(await changeOwnPassword(db.kysely, session, { currentPassword: tinasPassword, newPassword: 'a brand new passphrase for tina' }, office, clock)).toEqual({ ok: true });
      expect(await liveCount(tina)).toBe(0);
      const audit = await db.kysely.selectFrom('audit_log').select('details').where('action', '=', 'auth.password_changed').executeTakeFirstOrThrow();
      expect(JSON.parse(String(audit.details))).toMatchObject({ forgottenDevices: 2 });
    });

    it('Tina resets her password through a link', async () => {
      await tinaHasDevices();
      const { id } = await db.kysely
        .transaction()
        .execute((trx) =>
          issueAccountToken(trx, { userId: tina, purpose: 'password_reset', now: clock.now(), expiresAt: clock.now() + passwordResetValidityMs, createdBy: null, secret }),
        );
      const password = 'tortoise in a raincoat';
      const result = await setPasswordByLink(db.kysely, { token: accountTokenOf(id, secret), password, confirm: password }, office, clock);
      expect(result.ok).toBe(true);
      expect(await liveCount(tina)).toBe(0);
    });

    it('an admin resets Tina\'s TOTP', async () => {
      await tinaHasDevices();
      await resetTotpEnrollment(db.kysely, tina, { enrollmentDays: 7 }, cliActor, clock);
      expect(await liveCount(tina)).toBe(0);
    });

    it('an admin removes one of Tina\'s factors', async () => {
      await tinaHasDevices();
      const factor = await db.kysely.selectFrom('factors').select('id').where('user_id', '=', tina).executeTakeFirstOrThrow();
      await removeUserFactor(db.kysely, tina, factor.id, cliActor, clock);
      expect(await liveCount(tina)).toBe(0);
    });

    it('Tina removes one of her factors', async () => {
      await enrollTotp(db, tina, clock);
      await tinaHasDevices();
      const factor = await db.kysely.selectFrom('factors').select('id').where('user_id', '=', tina).executeTakeFirstOrThrow();
      const { session } = await freshlyVerified(db, tina, clock);
      expect(await removeFactor(db.kysely, session, { factorId: factor.id }, office, clock)).toEqual({ ok: true });
      expect(await liveCount(tina)).toBe(0);
    });

    it('leaves other people\'s devices alone', async () => {
      await remember(tom, 30, 'tom');
      await tinaHasDevices();
      await resetTotpEnrollment(db.kysely, tina, { enrollmentDays: 7 }, cliActor, clock);
      expect(await liveCount(tom)).toBe(1);
    });
  });
});
