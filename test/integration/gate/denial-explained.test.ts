import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import { cliActor } from '../../../lib/admin/actor';
import { createUser } from '../../../lib/admin/users';
import { createGroup, setGroupMembers } from '../../../lib/admin/groups';
import { createPolicy, setPolicyEnabled } from '../../../lib/admin/policies';
import { listAudit } from '../../../lib/admin/audit-log';
import { createSession } from '../../../lib/auth/sessions';
import { accessContextFor } from '../../../lib/gate/context';
import { denialReference, explainDenial } from '../../../lib/gate/denial-explained';
import { dialects, freshDb } from '../support/dialects';

const start = Date.UTC(2026, 11, 1, 9, 0, 0);
const outside = { ip: '198.51.100.23', userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0' };

/*
 * What the denied page can say. Personas:
 * - Dora: a contractor; "Contractors: no demo app" denies contractors the demo app.
 * - Ben: no groups; nothing denies him.
 */
describe.each(dialects)('the denied page’s explanation on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let dora = '';
  let ben = '';
  let policyId = '';

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    dora = (await createUser(db.kysely, { username: 'dora', password: 'long enough passphrase', state: 'active' }, cliActor, clock)).id;
    ben = (await createUser(db.kysely, { username: 'ben', password: 'long enough passphrase', state: 'active' }, cliActor, clock)).id;
    const contractors = await createGroup(db.kysely, { name: 'Contractors' }, cliActor, clock);
    await setGroupMembers(db.kysely, contractors.id, { userIds: [dora] }, cliActor, clock);
    policyId = (
      await createPolicy(
        db.kysely,
        { name: 'Contractors: no demo app', enabled: true, scope: 'groups', includeGroupIds: [contractors.id], excludeGroupIds: [], conditions: {}, resources: ['demo'], action: 'deny', priority: 0 },
        cliActor,
        clock,
      )
    ).id;
  });
  afterEach(async () => {
    await db.close();
  });

  const contextOf = (token: string | null) => accessContextFor(db, token, outside, clock);

  it('Dora, denied the demo app, is told which policy and resource, with her denial’s audit entry as the reference', async () => {
    const token = await createSession(db.kysely, dora, outside, clock);
    clock.advance(1000);
    expect((await (await contextOf(token)).decisionFor('demo')).kind).toBe('deny'); // what the gate did before sending her to /denied
    const [entry] = (await listAudit(db.kysely, { action: 'access.denied', limit: 10 })).entries;
    const explanation = await explainDenial(db.kysely, await contextOf(token));
    expect(explanation).toEqual({ kind: 'denied', resource: 'demo', policyName: 'Contractors: no demo app', reference: { id: entry!.id, at: start + 1000 } });
    expect(denialReference({ id: entry!.id })).toBe(`#${entry!.id}`);
  });

  it('her newest denial is the one explained, and only her own session’s', async () => {
    const other = await createSession(db.kysely, dora, outside, clock);
    await (await contextOf(other)).decisionFor('demo');
    const token = await createSession(db.kysely, dora, outside, clock);
    expect(await explainDenial(db.kysely, await contextOf(token))).toEqual({ kind: 'unknown' });
    clock.advance(60_000);
    await (await contextOf(token)).decisionFor('demo');
    const explanation = await explainDenial(db.kysely, await contextOf(token));
    expect(explanation).toMatchObject({ kind: 'denied', reference: { at: start + 60_000 } });
  });

  it('once the policy is switched off, Dora is not blamed on it: the denial no longer holds', async () => {
    const token = await createSession(db.kysely, dora, outside, clock);
    await (await contextOf(token)).decisionFor('demo');
    await setPolicyEnabled(db.kysely, policyId, false, cliActor, clock);
    expect(await explainDenial(db.kysely, await contextOf(token))).toMatchObject({ kind: 'no_longer', resource: 'demo' });
  });

  it('Ben, never denied, gets the general text; without a session there is nothing to explain', async () => {
    const token = await createSession(db.kysely, ben, outside, clock);
    expect(await explainDenial(db.kysely, await contextOf(token))).toEqual({ kind: 'unknown' });
    expect(await explainDenial(db.kysely, await contextOf(null))).toEqual({ kind: 'signed_out' });
  });
});
