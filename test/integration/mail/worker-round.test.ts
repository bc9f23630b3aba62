import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock, oneMinute } from '../../../lib/clock';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { outboxTransport } from '../../../lib/mail/transport';
import { deliverDueMessages, runMailTick } from '../../../lib/mail/worker';
import { dialects, freshDb } from '../support/dialects';
import { admin, outbox, seed, workerOptions } from './support/world';

/** Counts the reads of "period started" marks (selects that name mfa_requirements.start_notice). */
class MarkReads implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (args.node.kind === 'SelectQueryNode' && JSON.stringify(args.node).includes('"start_notice"')) this.count++;
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

const start = Date.UTC(2026, 10, 2, 9, 0, 0);

/*
 * A worker round queues the "period started" messages once: the round with the scheduler
 * (runMailTick) and the round without it (deliverDueMessages) each read the marks once,
 * and each user gets one message, delivered once. Ada and Bob are required; Cleo is not.
 */
describe.each(dialects)('a mail worker round on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  let ids: Record<string, string>;
  let reads: MarkReads;
  let counted: Db;

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    ids = await seed(db, clock, [{ username: 'ada' }, { username: 'bob' }, { username: 'cleo' }]);
    reads = new MarkReads();
    counted = { ...db, kysely: db.kysely.withPlugin(reads) };
  });
  afterEach(async () => {
    await db.close();
  });

  const startedMessages = async () => (await outbox(db)).filter((r) => r.kind === 'enrollment_started');

  it('with the scheduler: reads the marks once and queues each message exactly once', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada!, ids.bob!] }, admin, clock);
    clock.advance(oneMinute);
    const { scheduled, delivered } = await runMailTick(workerOptions(counted, outboxTransport(null), clock));
    expect(reads.count).toBe(1);
    expect(scheduled).toEqual({ started: 2, reminders: 0, expired: 0 });
    expect(delivered).toMatchObject({ sent: 2 });
    const rows = await startedMessages();
    expect(rows.map((r) => r.user_id).sort()).toEqual([ids.ada, ids.bob].sort());
    expect(rows.every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);

    // The next round finds nothing left to queue.
    expect((await runMailTick(workerOptions(counted, outboxTransport(null), clock))).scheduled.started).toBe(0);
    expect(reads.count).toBe(2);
    expect(await startedMessages()).toHaveLength(2);
  });

  it('without the scheduler: reads the marks once and queues each message exactly once', async () => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada!] }, admin, clock);
    expect(await deliverDueMessages(workerOptions(counted, outboxTransport(null), clock))).toMatchObject({ sent: 1 });
    expect(reads.count).toBe(1);
    const rows = await startedMessages();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ user_id: ids.ada, status: 'sent', attempts: 1 });
  });
});
