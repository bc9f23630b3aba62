import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { getMfaRequirement } from '../../../db/queries/mfa';
import { manualClock } from '../../../lib/clock';
import type { Actor } from '../../../lib/admin/actor';
import { NotFoundError, ValidationError } from '../../../lib/admin/errors';
import { removeMfaRequirementForUsers, requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { countUsersByStatus } from '../../../lib/admin/user-counts';
import { createUser } from '../../../lib/admin/users';
import { dialects, freshDb } from '../support/dialects';

/**
 * Bulk "Remove MFA requirement" (issue 16), the counterpart of bulk "Require MFA": Ada the
 * admin required MFA for the whole support team by mistake and takes it back for Bob and
 * Cleo; Dan never had a requirement. All-or-nothing, audited per user who changed, and the
 * header counts on the next page already say so.
 */

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const ada: Actor = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };

describe.each(dialects)('bulk Remove MFA requirement on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let bob: string;
  let cleo: string;
  let dan: string;
  let eve: string;

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    [bob, cleo, dan, eve] = await Promise.all(['bob', 'cleo', 'dan', 'eve'].map(async (u) => (await createUser(db.kysely, { username: u, state: 'active' }, ada, clock)).id));
    await requireMfaForUsers(db.kysely, { userIds: [bob, cleo, eve] }, ada, clock);
  });
  afterEach(async () => {
    await db.close();
  });

  async function cleared() {
    return db.kysely
      .selectFrom('audit_log')
      .select(['target_id', 'actor_id', 'actor_label', 'client_ip', 'details', 'at'])
      .where('action', '=', 'mfa.requirement_cleared')
      .orderBy('id')
      .execute();
  }

  it('removes the requirement of the selected users, audits each who changed, and the counts follow at once', async () => {
    expect((await countUsersByStatus(db.kysely, clock)).required).toBe(3);
    clock.advance(60_000);
    const result = await removeMfaRequirementForUsers(db.kysely, { userIds: [cleo, dan, bob] }, ada, clock);
    expect(result).toEqual({ removedUserIds: [cleo, bob], unchangedUserIds: [dan] });
    expect(await getMfaRequirement(db.kysely, bob)).toBeNull();
    expect(await getMfaRequirement(db.kysely, cleo)).toBeNull();
    expect(await getMfaRequirement(db.kysely, eve)).toMatchObject({ required: true });
    const entries = await cleared();
    expect(entries.map((e) => e.target_id).sort()).toEqual([bob, cleo].sort());
    for (const e of entries) {
      expect(e).toMatchObject({ actor_id: 'admin-ada', actor_label: 'ada.admin', client_ip: '198.51.100.7' });
      expect(Number(e.at)).toBe(start + 60_000);
      expect(JSON.parse(e.details!)).toEqual({ bulk: true });
    }
    const counts = await countUsersByStatus(db.kysely, clock);
    expect(counts).toMatchObject({ required: 1, notRequired: 3 });
  });

  it('is all-or-nothing: an unknown id changes nobody; bad input is refused', async () => {
    const ghost = randomUUID();
    await expect(removeMfaRequirementForUsers(db.kysely, { userIds: [bob, ghost] }, ada, clock)).rejects.toSatisfy(
      (err: unknown) => err instanceof NotFoundError && err.ids.join() === ghost,
    );
    expect(await getMfaRequirement(db.kysely, bob)).toMatchObject({ required: true });
    expect(await cleared()).toEqual([]);
    await expect(removeMfaRequirementForUsers(db.kysely, { userIds: [] }, ada, clock)).rejects.toThrow(ValidationError);
    await expect(removeMfaRequirementForUsers(db.kysely, { userIds: [bob, bob] }, ada, clock)).rejects.toThrow(ValidationError);
    await expect(removeMfaRequirementForUsers(db.kysely, {}, ada, clock)).rejects.toThrow(ValidationError);
  });
});
