import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import { cliActor } from '../../../lib/admin/actor';
import { createUser } from '../../../lib/admin/users';
import { createGroup, setGroupMembers } from '../../../lib/admin/groups';
import { createPolicy } from '../../../lib/admin/policies';
import { listAudit } from '../../../lib/admin/audit-log';
import { createSession } from '../../../lib/auth/sessions';
import { evaluateAccess } from '../../../lib/gate/access';
import { dialects } from '../support/dialects';
import { freshDbPair } from '../factors/support';

const start = Date.UTC(2026, 11, 1, 9, 0, 0);
const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';
const outside = { ip: '198.51.100.23', userAgent: firefox };

/*
 * R-D2 in the audit log: a denied decision is audited as `access.denied`
 * once per session and resource, not once per request, also when two app instances (two
 * handles on one database) see the same session at the same moment. Personas:
 * - Dave: a contractor; "Contractors out" denies contractors the portal and the demo app.
 * - Ben: no groups; allowed, never audited.
 */
describe.each(dialects)('denial audit on %s', (dialect) => {
  let one: Db;
  let two: Db;
  const clock = manualClock(start);
  let dave = '';
  let ben = '';

  const denials = async (db = one) => (await listAudit(db.kysely, { action: 'access.denied', limit: 100 })).entries;

  beforeEach(async () => {
    clock.set(start);
    [one, two] = await freshDbPair(dialect);
    dave = (await createUser(one.kysely, { username: 'dave', password: 'long enough passphrase', state: 'active' }, cliActor, clock)).id;
    ben = (await createUser(one.kysely, { username: 'ben', password: 'long enough passphrase', state: 'active' }, cliActor, clock)).id;
    const contractors = await createGroup(one.kysely, { name: 'Contractors' }, cliActor, clock);
    await setGroupMembers(one.kysely, contractors.id, { userIds: [dave] }, cliActor, clock);
    await createPolicy(
      one.kysely,
      { name: 'Contractors out', enabled: true, scope: 'groups', includeGroupIds: [contractors.id], excludeGroupIds: [], conditions: {}, resources: ['portal', 'demo'], action: 'deny', priority: 0 },
      cliActor,
      clock,
    );
  });
  afterEach(async () => {
    await one.close();
    await two.close();
  });

  it('Dave reloading a denied page 20 times is audited once, with who, what, which policy and from where', async () => {
    const token = await createSession(one.kysely, dave, outside, clock);
    for (let i = 0; i < 20; i++) {
      clock.advance(1000);
      expect((await evaluateAccess(one, token, 'portal', outside, clock)).decision).toMatchObject({ kind: 'deny', rule: 'R-D2' });
    }
    const entries = await denials();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      at: start + 1000,
      actor: { id: dave, label: 'dave' },
      action: 'access.denied',
      target: { type: 'resource', id: 'portal' },
      details: { rule: 'R-D2', policy: { name: 'Contractors out' } },
      clientIp: outside.ip,
    });
  });

  it('once per session and resource: another resource, or a new session, is a new entry', async () => {
    const first = await createSession(one.kysely, dave, outside, clock);
    await evaluateAccess(one, first, 'portal', outside, clock);
    await evaluateAccess(one, first, 'demo', outside, clock);
    await evaluateAccess(one, first, 'portal', outside, clock);
    const second = await createSession(one.kysely, dave, outside, clock);
    await evaluateAccess(one, second, 'portal', outside, clock);
    expect((await denials()).map((e) => e.target.id).sort()).toEqual(['demo', 'portal', 'portal']);
  });

  it('two instances denying the same session at the same moment write one entry', async () => {
    const token = await createSession(one.kysely, dave, outside, clock);
    const errors = vi.spyOn(console, 'error');
    const decisions = await Promise.all(
      Array.from({ length: 10 }, (_, i) => evaluateAccess(i % 2 === 0 ? one : two, token, 'portal', outside, clock)),
    );
    expect(decisions.every((d) => d.decision.kind === 'deny')).toBe(true);
    expect(await denials(two)).toHaveLength(1);
    // The loser's insert is ignored by the database, not an error to log.
    expect(errors.mock.calls.filter((c) => String(c[0]).includes('could not audit'))).toEqual([]);
    errors.mockRestore();
  });

  it('Ben, allowed, leaves no denial in the log', async () => {
    const token = await createSession(one.kysely, ben, outside, clock);
    expect((await evaluateAccess(one, token, 'portal', outside, clock)).decision.kind).toBe('allow');
    expect(await denials()).toHaveLength(0);
  });
});
