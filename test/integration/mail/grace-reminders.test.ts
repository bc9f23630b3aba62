import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneDay, oneHour } from '../../../lib/clock';
import { createGroup, setGroupMembers } from '../../../lib/admin/groups';
import { createPolicy } from '../../../lib/admin/policies';
import { outboxTransport } from '../../../lib/mail/transport';
import { runMailTick } from '../../../lib/mail/worker';
import { dialects, freshDb } from '../support/dialects';
import { addFactor, admin, outbox, seed, workerOptions } from './support/world';

/*
 * Issue 18 part 6: a policy's grace window brings the same messages as an individual
 * period (R-B5): "period started" when it opens, reminders 3 days and 1 day before its end;
 * no "period ended" notice (after it, the policy forces setup at sign-in, nobody is locked
 * out). Gus never enrolls; Dev enrolls on day 2.
 */
const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const ends = start + 7 * oneDay;

describe.each(dialects)('grace window messages on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let ids: Record<string, string>;
  const tick = () => runMailTick(workerOptions(db, outboxTransport(null), clock));
  const kinds = async (userId: string) =>
    (await outbox(db)).filter((r) => r.user_id === userId).map((r) => `${r.kind}@${(r.created_at - start) / oneHour}h:${r.status}`);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    ids = await seed(db, clock, [{ username: 'gus' }, { username: 'dev' }]);
    const sales = await createGroup(db.kysely, { name: 'Sales' }, admin, clock);
    await createPolicy(
      db.kysely,
      { name: 'Sales MFA', enabled: true, scope: 'groups', includeGroupIds: [sales.id], resources: ['portal'], action: 'require_mfa', graceDays: 7 },
      admin,
      clock,
    );
    await setGroupMembers(db.kysely, sales.id, { userIds: [ids.gus!, ids.dev!] }, admin, clock);
  });
  afterEach(async () => {
    await db.close();
  });

  it('Gus: started at once, reminders 3 days and 1 day before the end, each once, and no "period ended"', async () => {
    await tick();
    clock.set(ends - 3 * oneDay);
    await tick();
    await tick();
    clock.set(ends - oneDay);
    await tick();
    clock.set(ends + oneHour);
    await tick();
    expect(await kinds(ids.gus!)).toEqual(['enrollment_started@0h:sent', 'enrollment_reminder@96h:sent', 'enrollment_reminder@144h:sent']);
    const reminder = (await outbox(db)).find((r) => r.user_id === ids.gus && r.kind === 'enrollment_reminder');
    expect(JSON.parse(reminder!.params as string)).toMatchObject({ periodEndsAt: ends, offsetMs: 3 * oneDay, grace: true });
  });

  it('Dev enrolls on day 2: no reminders after that', async () => {
    await tick();
    clock.set(start + 2 * oneDay);
    await addFactor(db, ids.dev!, 'totp', clock.now());
    clock.set(ends - oneDay);
    await tick();
    expect(await kinds(ids.dev!)).toEqual(['enrollment_started@0h:sent']);
  });
});
