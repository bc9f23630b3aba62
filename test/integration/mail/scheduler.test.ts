import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneDay, oneHour, oneMinute } from '../../../lib/clock';
import { requireMfaForUsers, setUserMfaRequirement } from '../../../lib/admin/mfa-requirements';
import { readMailConfig } from '../../../lib/mail/config';
import { outboxTransport } from '../../../lib/mail/transport';
import { runMailTick } from '../../../lib/mail/worker';
import { dialects, freshDb } from '../support/dialects';
import { addFactor, admin, outbox, seed, workerOptions } from './support/world';

/*
 * Reminders and the "period ended" notice, on an injected clock (nothing a request can
 * reach moves it). Default offsets: 3 days and 1 day before the end. Personas:
 * Ada (never enrolls), Dev (enrolls on day 2), Cleo (requirement cleared), Nell (no address),
 * Bob (staged), Sam (suspended).
 */
const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const ends = start + 7 * oneDay;
const days3 = 3 * oneDay;

describe.each(dialects)('scheduling reminders on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let ids: Record<string, string>;

  const tick = (offsets?: number[]) =>
    runMailTick(
      workerOptions(db, outboxTransport(null), clock, offsets ? { config: { ...workerOptions(db, outboxTransport(null), clock).config, reminderOffsetsMs: offsets } } : {}),
    );
  const kinds = async (userId: string) =>
    (await outbox(db)).filter((r) => r.user_id === userId).map((r) => `${r.kind}@${(r.created_at - start) / oneHour}h:${r.status}`);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    ids = await seed(db, clock, [
      { username: 'ada' },
      { username: 'dev' },
      { username: 'cleo' },
      { username: 'nell', email: null },
      { username: 'bob', state: 'staged' },
      { username: 'sam', state: 'suspended' },
    ]);
  });
  afterEach(async () => {
    await db.close();
  });

  it('Ada, who never enrolls: reminders 3 days and 1 day before the end, then "period ended", each once', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    await tick();
    clock.set(ends - days3 - oneMinute);
    await tick();
    expect(await kinds(ids.ada!)).toEqual(['enrollment_started@0h:sent']);

    clock.set(ends - days3);
    expect((await tick()).scheduled).toEqual({ started: 0, reminders: 1, expired: 0 });
    clock.advance(oneHour);
    expect((await tick()).scheduled).toEqual({ started: 0, reminders: 0, expired: 0 });
    clock.set(ends - oneDay);
    await tick();
    await tick();
    clock.set(ends - 1);
    await tick();
    clock.set(ends);
    await tick();
    clock.advance(3 * oneDay);
    await tick();
    expect(await kinds(ids.ada!)).toEqual([
      'enrollment_started@0h:sent',
      'enrollment_reminder@96h:sent',
      'enrollment_reminder@144h:sent',
      'enrollment_expired@168h:sent',
    ]);
    const rows = await outbox(db);
    expect(rows.map((r) => r.idempotency_key)).toEqual([
      `enrollment_started:${ids.ada}:${start}`,
      `reminder:${ids.ada}:${ends}:${days3}`,
      `reminder:${ids.ada}:${ends}:${oneDay}`,
      `enrollment_expired:${ids.ada}:${ends}`,
    ]);
    expect(rows[1]!.text_body).toContain('ends in 3 days, on 9 Nov 2026, 09:00 UTC');
    expect(rows[2]!.text_body).toContain('ends in 1 day, on 9 Nov 2026, 09:00 UTC');
    expect(rows[3]!.text_body).toContain('You are locked out of the User Portal');
  });

  it('Dev enrolls on day 2: no reminder and no "period ended"', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.dev] }, admin, clock);
    clock.advance(2 * oneDay);
    await addFactor(db, ids.dev!, 'totp', clock.now());
    for (const at of [ends - days3, ends - oneDay, ends, ends + oneDay]) {
      clock.set(at);
      await tick();
    }
    // The worker first ran after he enrolled: even the "period started" message no longer applied.
    expect(await kinds(ids.dev!)).toEqual(['enrollment_started@0h:skipped']);
  });

  it('a reminder already queued when Dev enrolls is not sent: skipped as no longer applying', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.dev] }, admin, clock);
    await tick();
    clock.set(ends - days3);
    await runMailTick({ ...workerOptions(db, outboxTransport(null), clock), transport: { via: 'outbox', send: () => Promise.reject(new Error('SMTP down')), close() {} } });
    await addFactor(db, ids.dev!, 'totp', clock.now());
    clock.advance(oneHour);
    await tick();
    expect(await kinds(ids.dev!)).toEqual(['enrollment_started@0h:sent', 'enrollment_reminder@96h:skipped']);
  });

  it('Cleo, whose requirement was cleared after her "period started" went out: nothing more', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.cleo] }, admin, clock);
    await tick();
    await setUserMfaRequirement(db.kysely, ids.cleo!, { required: false }, admin, clock);
    for (const at of [ends - days3, ends - oneDay, ends]) {
      clock.set(at);
      await tick();
    }
    expect(await kinds(ids.cleo!)).toEqual(['enrollment_started@0h:sent']);
  });

  it('Cleo, whose requirement was cleared before any worker round: no message at all', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.cleo] }, admin, clock);
    await setUserMfaRequirement(db.kysely, ids.cleo!, { required: false }, admin, clock);
    for (const at of [start, ends - days3, ends]) {
      clock.set(at);
      await tick();
    }
    expect(await kinds(ids.cleo!)).toEqual([]);
  });

  it('a worker that was down for days sends only the closest reminder due, not every missed one', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    clock.set(ends - 12 * oneHour);
    await tick();
    expect(await kinds(ids.ada!)).toEqual(['enrollment_started@0h:sent', 'enrollment_reminder@156h:sent']);
    expect((await outbox(db))[1]!.idempotency_key).toBe(`reminder:${ids.ada}:${ends}:${oneDay}`);
  });

  it('a 2-day period gets no "3 days left" reminder, only the 1-day one', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada], enrollmentDays: 2 }, admin, clock);
    for (let h = 0; h <= 48; h += 6) {
      clock.set(start + h * oneHour);
      await tick();
    }
    expect(await kinds(ids.ada!)).toEqual(['enrollment_started@0h:sent', 'enrollment_reminder@24h:sent', 'enrollment_expired@48h:sent']);
  });

  it('PORTCULLIS_REMINDER_OFFSETS="2d,12h" moves the reminders', async () => {
    const offsets = readMailConfig({ PORTCULLIS_REMINDER_OFFSETS: '2d,12h' }).reminderOffsetsMs;
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    for (let h = 0; h < 7 * 24; h += 6) {
      clock.set(start + h * oneHour);
      await tick(offsets);
    }
    expect(await kinds(ids.ada!)).toEqual(['enrollment_started@0h:sent', 'enrollment_reminder@120h:sent', 'enrollment_reminder@156h:sent']);
  });

  it('Nell, without an address, has each reminder recorded as skipped once; Bob (staged) and Sam (suspended) get none', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.nell, ids.bob, ids.sam] }, admin, clock);
    for (const at of [ends - days3, ends - days3 + oneHour, ends - oneDay, ends]) {
      clock.set(at);
      await tick();
    }
    expect(await kinds(ids.nell!)).toEqual([
      'enrollment_started@0h:skipped',
      'enrollment_reminder@96h:skipped',
      'enrollment_reminder@144h:skipped',
      'enrollment_expired@168h:skipped',
    ]);
    expect(await kinds(ids.bob!)).toEqual([]);
    expect(await kinds(ids.sam!)).toEqual(['enrollment_started@0h:skipped']);
  });

  it('a period that ended long before mail was set up gets no "period ended" notice', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada] }, admin, clock);
    clock.set(ends + 20 * oneDay);
    await tick();
    expect(await kinds(ids.ada!)).toEqual(['enrollment_started@0h:skipped']);
  });

  it('"period started" delivered only after the period ended is skipped, not sent late', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada], enrollmentDays: 1 }, admin, clock);
    clock.set(start + oneDay);
    await tick();
    expect(await kinds(ids.ada!)).toEqual(['enrollment_started@0h:skipped', 'enrollment_expired@24h:sent']);
  });
});
