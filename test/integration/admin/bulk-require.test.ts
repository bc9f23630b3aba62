import { randomUUID } from 'node:crypto';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneDay } from '../../../lib/clock';
import type { Actor } from '../../../lib/admin/actor';
import { NotFoundError } from '../../../lib/admin/errors';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { idempotencyKeys, skipReasons } from '../../../lib/mail/enqueue';
import { queueEnrollmentStartedMessages } from '../../../lib/mail/start-notices';
import { dialects, freshDb } from '../support/dialects';

/**
 * Bulk "Require MFA" (R-B2, R-B5) at the statement level: all-or-nothing, two set-based
 * statements whatever the number of users (the requirements, marked for their message, and
 * their audit entries), and at the mail worker's next round exactly one "enrollment period
 * began" message per user whose period started.
 */

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const admin: Actor = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };

/** Names the statements a Kysely instance runs: "select users", "insert mail_outbox", … */
class StatementNames implements KyselyPlugin {
  names: string[] = [];
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.names.push(describeNode(args.node));
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

function describeNode(node: RootOperationNode): string {
  const n = node as any;
  if (node.kind === 'RawNode') {
    const text = (n.sqlFragments as string[]).join('?').trim().toLowerCase();
    const m = /^(insert into|update|delete from|select)\s+.*?\b(?:from\s+)?"?(\w+)"?/s.exec(text);
    return m ? `${m[1]!.split(' ')[0]} ${/^insert into\s+(\w+)/.exec(text)?.[1] ?? m[2]}` : text.slice(0, 20);
  }
  if (node.kind === 'InsertQueryNode') return `insert ${n.into.table.identifier.name}`;
  if (node.kind === 'SelectQueryNode') {
    const from = n.from?.froms?.[0];
    const table = from?.table?.identifier?.name ?? from?.node?.table?.identifier?.name ?? '?';
    return `select ${table}`;
  }
  return node.kind;
}

describe.each(dialects)('bulk Require MFA on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
  });
  afterEach(async () => {
    await db.close();
  });

  type Kind = 'active' | 'no_address' | 'suspended' | 'staged' | 'enrolled';

  /** `n` users of each kind, inserted set-based; returns their ids by kind. */
  async function population(n: number): Promise<Record<Kind, string[]>> {
    const kinds: Kind[] = ['active', 'no_address', 'suspended', 'staged', 'enrolled'];
    const out = Object.fromEntries(kinds.map((k) => [k, [] as string[]])) as Record<Kind, string[]>;
    const rows = [];
    for (const kind of kinds) {
      for (let i = 0; i < n; i++) {
        const id = randomUUID();
        out[kind].push(id);
        const username = `${kind}-${String(i).padStart(4, '0')}`;
        rows.push({
          id,
          username,
          username_lower: username,
          email: kind === 'no_address' ? null : `${username}@example.org`,
          display_name: i % 2 ? `  ${kind} ${i}  ` : null,
          password_hash: null,
          state: kind === 'suspended' ? ('suspended' as const) : kind === 'staged' ? ('staged' as const) : ('active' as const),
          role: 'user' as const,
          created_at: start,
          activated_at: null,
        });
      }
    }
    for (let i = 0; i < rows.length; i += 500) await db.kysely.insertInto('users').values(rows.slice(i, i + 500)).execute();
    for (const id of out.enrolled) {
      await db.kysely
        .insertInto('factors')
        .values({ id: randomUUID(), user_id: id, type: 'totp', name: 'Phone', created_at: start, last_used_at: null, secret_enc: 'sealed', last_used_step: null, credential_id: null, public_key: null, sign_count: null, transports: null })
        .execute();
    }
    return out;
  }

  async function outbox() {
    return db.kysely.selectFrom('mail_outbox').selectAll().orderBy('idempotency_key').execute();
  }

  it('writes requirements and audit entries in two statements; the next worker round queues one message per started period, each with its skip reason', async () => {
    const users = await population(240);
    const everyone = Object.values(users).flat();
    const recorder = new StatementNames();
    const result = await requireMfaForUsers(db.kysely.withPlugin(recorder), { userIds: everyone, enrollmentDays: 7 }, admin, clock);
    expect(result.updated).toBe(everyone.length);
    expect(result.preEnrollmentUserIds.sort()).toEqual([...users.staged].sort());

    // One statement per table written, nothing read first.
    expect(recorder.names).toEqual(['insert mfa_requirements', 'insert audit_log']);
    const audit = await db.kysely.selectFrom('audit_log').select(['target_id', 'details', 'actor_label', 'client_ip']).where('action', '=', 'mfa.required').execute();
    expect(audit.map((a) => a.target_id).sort()).toEqual([...everyone].sort());
    const auditOf = new Map(audit.map((a) => [a.target_id, a]));
    expect(JSON.parse(auditOf.get(users.staged[0]!)!.details!)).toEqual({ enrollmentDays: 7, periodStartsAt: null, periodEndsAt: null, preEnrollment: true, bulk: true });
    expect(JSON.parse(auditOf.get(users.suspended[0]!)!.details!)).toEqual({ enrollmentDays: 7, periodStartsAt: start, periodEndsAt: start + 7 * oneDay, bulk: true });
    expect(auditOf.get(users.active[0]!)).toMatchObject({ actor_label: 'ada.admin', client_ip: '198.51.100.7' });
    expect(await outbox()).toEqual([]);

    clock.advance(1_500);
    const round = new StatementNames();
    expect(await queueEnrollmentStartedMessages(db.kysely.withPlugin(round), clock)).toEqual({ queued: 240, skipped: 4 * 240 - 240 });
    // 960 marks in batches of 500: each one read, then the messages and the cleared marks in one transaction.
    expect(round.names).toEqual(['select mfa_settings', ...Array(2).fill(['select mfa_requirements', 'insert mail_outbox', 'update mfa_requirements']).flat()]);
    expect(await db.kysely.selectFrom('mfa_requirements').select('user_id').where('start_notice', 'is not', null).execute()).toEqual([]);

    const rows = await outbox();
    const byUser = new Map(rows.map((r) => [r.user_id, r]));
    expect(rows).toHaveLength(everyone.length - users.staged.length);
    expect(byUser.size).toBe(rows.length);
    for (const id of users.staged) expect(byUser.has(id)).toBe(false);
    const expectStatus = (ids: string[], status: string, reason: string | null) => {
      for (const id of ids) {
        const row = byUser.get(id)!;
        expect(row, id).toMatchObject({ status, last_error: reason, kind: 'enrollment_started', idempotency_key: idempotencyKeys.enrollmentStarted(id, start) });
        expect(Number(row.created_at)).toBe(start);
        expect(row.next_attempt_at === null ? null : Number(row.next_attempt_at)).toBe(status === 'pending' ? start : null);
      }
    };
    expectStatus(users.active, 'pending', null);
    expectStatus(users.no_address, 'skipped', skipReasons.noAddress);
    expectStatus(users.suspended, 'skipped', skipReasons.notActive);
    expectStatus(users.enrolled, 'skipped', skipReasons.enrolled);
    // The facts are frozen per user: the trimmed display name, else the username.
    const ada = byUser.get(users.active[1]!)!;
    expect(JSON.parse(ada.params)).toEqual({ name: 'active 1', enrollmentDays: 7, periodStartsAt: start, periodEndsAt: start + 7 * oneDay, reason: 'required' });
    expect(JSON.parse(byUser.get(users.active[0]!)!.params).name).toBe('active-0000');
    expect(ada.to_address).toBe('active-0001@example.org');

    // A second round finds no mark and queues nothing more.
    expect(await queueEnrollmentStartedMessages(db.kysely, clock)).toEqual({ queued: 0, skipped: 0 });
    expect(await outbox()).toHaveLength(rows.length);
  });

  it('one unknown id aborts everything: no requirement, audit entry or message', async () => {
    const users = await population(30);
    const ids = [...users.active, 'ghost-1', ...users.suspended];
    const error = await requireMfaForUsers(db.kysely, { userIds: ids, enrollmentDays: 7 }, admin, clock).catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).ids).toEqual(['ghost-1']);
    expect(await db.kysely.selectFrom('mfa_requirements').selectAll().execute()).toEqual([]);
    expect(await db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'mfa.required').execute()).toEqual([]);
    expect(await outbox()).toEqual([]);
    expect(await queueEnrollmentStartedMessages(db.kysely, clock)).toEqual({ queued: 0, skipped: 0 });
  });

  it('a later period queues a new message next to the old one, never a second copy of one', async () => {
    const users = await population(20);
    await requireMfaForUsers(db.kysely, { userIds: users.active, enrollmentDays: 7 }, admin, clock);
    await queueEnrollmentStartedMessages(db.kysely, clock);
    clock.advance(oneDay);
    await requireMfaForUsers(db.kysely, { userIds: users.active, enrollmentDays: 3 }, admin, clock);
    await queueEnrollmentStartedMessages(db.kysely, clock);
    await queueEnrollmentStartedMessages(db.kysely, clock);
    const rows = await outbox();
    expect(rows).toHaveLength(40);
    for (const id of users.active) {
      expect(rows.filter((r) => r.user_id === id).map((r) => r.idempotency_key).sort()).toEqual(
        [idempotencyKeys.enrollmentStarted(id, start), idempotencyKeys.enrollmentStarted(id, start + oneDay)].sort(),
      );
    }
  });
});
