import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql, type KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import type { Db } from '../../../db';
import { manualClock, oneDay } from '../../../lib/clock';
import type { Actor } from '../../../lib/admin/actor';
import { auditCsv } from '../../../lib/admin/audit-csv';
import { auditActionOptions } from '../../../lib/admin/audit-describe';
import { listAudit } from '../../../lib/admin/audit-log';
import { readAuditPage } from '../../../lib/admin/audit-readable';
import { createGroup } from '../../../lib/admin/groups';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { createPolicy, deletePolicy, setPolicyEnabled } from '../../../lib/admin/policies';
import { createUser } from '../../../lib/admin/users';
import { isValidationError } from '../../../lib/errors/brand';
import { writeAudit } from '../../../db/queries/audit';
import { dialects, freshDb } from '../support/dialects';

/*
 * The audit log as Ada the admin reads it: names rather than ids, one line per event, a
 * date range and an action to filter by, and the same entries as a CSV file.
 */
const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const seedActor: Actor = { id: null, label: 'seed', clientIp: null };

/** Counts the statements a Kysely instance sends, to show names cost one query per page. */
class StatementCounter implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }
  // Called once per statement executed (transformQuery also sees sub-queries being built).
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.count++;
    return args.result;
  }
}

async function refusal(promise: Promise<unknown>): Promise<Record<string, string[]>> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isValidationError(error)) throw new Error(`expected a ValidationError, got ${String(error)}`);
  return error.fieldErrors;
}

async function collect(lines: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const line of lines) out += line;
  return out;
}

describe.each(dialects)('the readable audit log on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let ada: Actor;
  let ids: Record<string, string>;

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    const adaId = (await createUser(db.kysely, { username: 'ada', displayName: 'Ada Admin', state: 'active', role: 'admin' }, seedActor, clock)).id;
    ada = { id: adaId, label: 'ada', clientIp: '198.51.100.7' };
    ids = { ada: adaId };
    // Day 1: Ada creates Nina and Theo, and requires MFA for both.
    for (const [username, displayName] of [['nina', 'Nina New'], ['theo', null]] as const) {
      ids[username] = (await createUser(db.kysely, { username, state: 'active', ...(displayName ? { displayName } : {}) }, ada, clock)).id;
    }
    await requireMfaForUsers(db.kysely, { userIds: [ids.nina!, ids.theo!], enrollmentDays: 7 }, ada, clock);
    // Day 2: a policy, switched ON. Day 3: a group whose name is a spreadsheet formula, and the policy deleted.
    clock.set(start + oneDay);
    const policy = await createPolicy(db.kysely, { name: 'Contractors', resources: ['portal'], action: 'require_mfa' }, ada, clock);
    await setPolicyEnabled(db.kysely, policy.id, true, ada, clock);
    ids.policy = policy.id;
    clock.set(start + 2 * oneDay);
    await createGroup(db.kysely, { name: '=HYPERLINK("https://evil.example","click")' }, ada, clock);
  });
  afterEach(async () => {
    await db.close();
  });

  it('each entry reads as a line with names, not ids', async () => {
    const { entries } = await readAuditPage(db.kysely, { limit: 50 });
    const lines = entries.map((e) => e.line);
    expect(lines).toContain('Ada Admin (ada) required MFA for Nina New (nina)');
    expect(lines).toContain('Ada Admin (ada) required MFA for theo');
    expect(lines).toContain('Ada Admin (ada) created policy “Contractors”');
    expect(lines).toContain('Ada Admin (ada) switched policy “Contractors” ON');
    expect(lines).toContain('seed created Ada Admin (ada)');
    for (const line of lines) for (const id of Object.values(ids)) expect(line).not.toContain(id);

    const required = entries.find((e) => e.action === 'mfa.required' && e.target.id === ids.nina)!;
    expect(required.actorName).toBe('Ada Admin (ada)');
    expect(required.detailItems).toEqual([
      { label: 'Enrollment days', text: '7' },
      { label: 'Period starts at', at: start },
      { label: 'Period ends at', at: start + 7 * oneDay },
      { label: 'Bulk', text: 'yes' },
    ]);
  });

  it('a deleted policy is still named, from what its entries recorded', async () => {
    clock.set(start + 3 * oneDay);
    await deletePolicy(db.kysely, ids.policy!, ada, clock);
    const { entries } = await readAuditPage(db.kysely, { action: 'policy.enabled' });
    expect(entries.map((e) => e.line)).toEqual(['Ada Admin (ada) switched policy “Contractors” (deleted) ON']);
  });

  it('names cost one query for the whole page, however many people and policies it shows', async () => {
    const counter = new StatementCounter();
    const { entries } = await readAuditPage(db.kysely.withPlugin(counter), { limit: 50 });
    expect(new Set(entries.map((e) => e.target.id)).size).toBeGreaterThanOrEqual(5);
    expect(counter.count).toBe(2); // the page, then the names
  });

  it('a date range keeps the UTC days asked for, both ends included', async () => {
    const day2 = await listAudit(db.kysely, { from: '2026-11-03', to: '2026-11-03' });
    expect(day2.entries.map((e) => e.action).sort()).toEqual(['policy.created', 'policy.enabled']);
    const fromDay2 = await listAudit(db.kysely, { from: '2026-11-03' });
    expect(fromDay2.entries.map((e) => e.action).sort()).toEqual(['group.created', 'policy.created', 'policy.enabled']);
    const untilDay1 = await listAudit(db.kysely, { to: '2026-11-02' });
    expect(untilDay1.entries.every((e) => e.at < start + oneDay)).toBe(true);
    expect(untilDay1.entries).toHaveLength(5); // Ada, Nina, Theo created; MFA required for two
    const moment = await listAudit(db.kysely, { from: '2026-11-04T09:00:00Z', to: '2026-11-04T09:00:00.000Z' });
    expect(moment.entries.map((e) => e.action)).toEqual(['group.created']);
  });

  it('refuses a malformed or impossible date, and a range that ends before it starts', async () => {
    expect(Object.keys(await refusal(listAudit(db.kysely, { from: '2026-02-31' })))).toEqual(['from']);
    expect(Object.keys(await refusal(listAudit(db.kysely, { to: 'yesterday' })))).toEqual(['to']);
    expect(await refusal(listAudit(db.kysely, { from: '2026-11-04', to: '2026-11-03' }))).toEqual({ to: ['To must not be before From.'] });
  });

  it('the action picker offers every action the log holds here, by label', async () => {
    const written = await db.kysely.selectFrom('audit_log').select('action').distinct().execute();
    const offered = new Set(auditActionOptions.map((o) => o.value as string));
    for (const { action } of written) expect(offered.has(action)).toBe(true);
    expect(auditActionOptions.find((o) => o.value === 'mfa.required')?.label).toBe('MFA required');
  });

  it('CSV export: the filtered entries over several keyset pages, a formula never left live', async () => {
    const csv = await collect(auditCsv(db.kysely, { actor: 'ada' }, 2));
    const rows = csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe('"Time (UTC)","Actor","Action","Target type","Target id","Target","Event","Client IP","Details"');
    const all = await listAudit(db.kysely, { actor: 'ada', limit: 200 });
    expect(rows).toHaveLength(all.entries.length + 1);
    expect(rows[1]).toContain('"group.created"');
    expect(rows[1]).toContain('created group “=HYPERLINK(""https://evil.example"",""click"")”');
    // No field starts with a formula lead, whatever the names hold.
    for (const row of rows) expect(row).not.toMatch(/(^|,)"[=+\-@\t\r]/);
    expect(rows.find((r) => r.includes('"mfa.required"') && r.includes(ids.nina!))).toContain(
      '"Ada Admin (ada) required MFA for Nina New (nina)","198.51.100.7","Enrollment days: 7; Period starts at: 2026-11-02T09:00:00.000Z',
    );
    // Newest first, like the page: the times never go up.
    const times = rows.slice(1).map((r) => Date.parse(r.slice(1, 25)));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const policyDay = await collect(auditCsv(db.kysely, { action: 'policy.enabled', from: '2026-11-03', to: '2026-11-03' }));
    expect(policyDay.trimEnd().split('\r\n')).toHaveLength(2);
  });

  it('CSV export: an actor recorded as a formula is written as text', async () => {
    await writeAudit(db.kysely, { at: start + 3 * oneDay, actorId: null, actorLabel: '=cmd|" /C calc"!A0', action: 'demo.note_recorded' });
    const csv = await collect(auditCsv(db.kysely, { action: 'demo.note_recorded' }));
    expect(csv.trimEnd().split('\r\n')[1]).toBe(
      `"2026-11-05T09:00:00.000Z","'=cmd|"" /C calc""!A0","demo.note_recorded","","","","'=cmd|"" /C calc""!A0: demo.note_recorded","",""`,
    );
  });

  it('CSV export refuses a bad filter before writing anything', async () => {
    const lines = auditCsv(db.kysely, { action: 'NOT AN ACTION' });
    expect(Object.keys(await refusal(lines.next()))).toEqual(['action']);
  });

  it('a date range far in the past is read through the index on the time, not by walking the whole log', async () => {
    // 20,000 entries a minute apart, the statistics refreshed as a running database has them.
    const count = 20_000;
    if (dialect === 'sqlite') {
      await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${count})
        insert into audit_log (at, actor_label, action) select ${start} + i * 60000, 'seed', 'user.updated' from n`.execute(db.kysely);
    } else {
      await sql`insert into audit_log (at, actor_label, action)
        select cast(${start} as bigint) + i * 60000, 'seed', 'user.updated' from generate_series(1, ${count}) as i`.execute(db.kysely);
    }
    await sql`analyze`.execute(db.kysely);
    const from = start + 100 * 60_000;
    const before = from + 30 * 60_000;
    const plan = (
      dialect === 'sqlite'
        ? await sql<Record<string, unknown>>`explain query plan select * from audit_log where at >= ${from} and at < ${before} order by id desc limit 50`.execute(db.kysely)
        : await sql<Record<string, unknown>>`explain select * from audit_log where at >= ${from} and at < ${before} order by id desc limit 50`.execute(db.kysely)
    ).rows
      .map((r) => String(r.detail ?? r['QUERY PLAN']))
      .join('\n');
    expect(plan).toContain('audit_log_at_idx');
    const page = await listAudit(db.kysely, { from: new Date(from).toISOString(), to: new Date(before - 1).toISOString(), limit: 50 });
    expect(page.entries).toHaveLength(30);
  });
});

