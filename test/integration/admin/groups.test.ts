import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import type { Actor } from '../../../lib/admin/actor';
import { createUser } from '../../../lib/admin/users';
import { ConflictError, NotFoundError, ValidationError } from '../../../lib/admin/errors';
import { createGroup, deleteGroup, listGroups, renameGroup, setGroupMembers } from '../../../lib/admin/groups';
import { groupIdsOfUser, listMemberIds } from '../../../db/queries/groups';
import { getConfigVersion } from '../../../db/queries/settings';
import { dialects, freshDb } from '../support/dialects';

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const admin: Actor = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };

describe.each(dialects)('user groups (R-C2) on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let ada: string;
  let bob: string;
  let cleo: string;

  async function audit(action: string) {
    return db.kysely.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();
  }

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    const seed: Actor = { id: null, label: 'seed', clientIp: null };
    ada = (await createUser(db.kysely, { username: 'ada', state: 'active' }, seed, clock)).id;
    bob = (await createUser(db.kysely, { username: 'bob', state: 'staged' }, seed, clock)).id;
    cleo = (await createUser(db.kysely, { username: 'cleo', state: 'suspended' }, seed, clock)).id;
  });
  afterEach(async () => {
    await db.close();
  });

  it('creates "Engineers" and refuses "engineers" (case-insensitive); lists with member counts', async () => {
    const engineers = await createGroup(db.kysely, { name: ' Engineers ' }, admin, clock);
    expect(engineers.name).toBe('Engineers');
    const error = await createGroup(db.kysely, { name: 'engineers' }, admin, clock).catch((e) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).message).toBe('A group named "engineers" already exists.');
    await createGroup(db.kysely, { name: 'Admins' }, admin, clock);
    await setGroupMembers(db.kysely, engineers.id, { userIds: [ada, bob] }, admin, clock);
    expect(await listGroups(db.kysely)).toEqual([
      { id: expect.any(String), name: 'Admins', createdAt: start, memberCount: 0 },
      { id: engineers.id, name: 'Engineers', createdAt: start, memberCount: 2 },
    ]);
    expect(await audit('group.created')).toHaveLength(2);
    await expect(createGroup(db.kysely, { name: '' }, admin, clock)).rejects.toThrow(ValidationError);
  });

  it('renames, allowing a case-only change of itself but not another group’s name', async () => {
    const a = await createGroup(db.kysely, { name: 'Sales' }, admin, clock);
    await createGroup(db.kysely, { name: 'Support' }, admin, clock);
    expect((await renameGroup(db.kysely, a.id, { name: 'SALES' }, admin, clock)).name).toBe('SALES');
    await expect(renameGroup(db.kysely, a.id, { name: 'support' }, admin, clock)).rejects.toThrow(ConflictError);
    await expect(renameGroup(db.kysely, 'nope', { name: 'X' }, admin, clock)).rejects.toThrow(NotFoundError);
    expect(JSON.parse((await audit('group.renamed'))[0]!.details!)).toEqual({ from: 'Sales', to: 'SALES' });
  });

  it('replaces members; one unknown user id changes nothing', async () => {
    const g = await createGroup(db.kysely, { name: 'Engineers' }, admin, clock);
    expect(await setGroupMembers(db.kysely, g.id, { userIds: [ada, bob] }, admin, clock)).toEqual({ count: 2, added: 2, removed: 0 });
    expect(await setGroupMembers(db.kysely, g.id, { userIds: [bob, cleo] }, admin, clock)).toEqual({ count: 2, added: 1, removed: 1 });
    const error = await setGroupMembers(db.kysely, g.id, { userIds: [ada, 'ghost'] }, admin, clock).catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).ids).toEqual(['ghost']);
    expect((await listMemberIds(db.kysely, g.id)).sort()).toEqual([bob, cleo].sort());
    expect(await audit('group.members_set')).toHaveLength(2);
    expect(await groupIdsOfUser(db.kysely, cleo)).toEqual([g.id]);
    expect(await setGroupMembers(db.kysely, g.id, { userIds: [] }, admin, clock)).toEqual({ count: 0, added: 0, removed: 2 });
    await expect(setGroupMembers(db.kysely, 'nope', { userIds: [] }, admin, clock)).rejects.toThrow(NotFoundError);
  });

  it('deleting a group removes its memberships, audits, and bumps the config version', async () => {
    const g = await createGroup(db.kysely, { name: 'Temps' }, admin, clock);
    await setGroupMembers(db.kysely, g.id, { userIds: [ada] }, admin, clock);
    const version = await getConfigVersion(db.kysely);
    expect(await deleteGroup(db.kysely, g.id, admin, clock)).toEqual({ policiesUpdated: [] });
    expect(await groupIdsOfUser(db.kysely, ada)).toEqual([]);
    expect(await listGroups(db.kysely)).toEqual([]);
    expect(await getConfigVersion(db.kysely)).toBe(version + 1);
    expect(await audit('group.deleted')).toHaveLength(1);
    await expect(deleteGroup(db.kysely, g.id, admin, clock)).rejects.toThrow(NotFoundError);
  });
});
