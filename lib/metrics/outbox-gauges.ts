/**
 * The outbox gauges (depth, oldest waiting message's age), refreshed by the mail worker
 * after its rounds (lib/mail/worker.ts), at most every `outboxLookEveryMs`: a scrape reads
 * the last values from memory and never counts the outbox itself.
 */
import type { Db } from '../../db';
import { outboxBacklog } from '../../db/queries/outbox-backlog';
import type { Clock } from '../clock';
import { metrics } from './registry';

/** A round is every 2 s; the backlog is looked at no more often than this. */
export const outboxLookEveryMs = 15_000;

/**
 * Counts the backlog if the last look is older than `outboxLookEveryMs`. Never throws: a
 * failed look leaves the previous values (the worker's next round tries again).
 */
export async function refreshOutboxGauges(db: Db, clock: Clock, options: { everyMs?: number } = {}): Promise<void> {
  const m = metrics();
  const now = performance.now();
  if (m.outboxLookedAt !== undefined && now - m.outboxLookedAt < (options.everyMs ?? outboxLookEveryMs)) return;
  m.outboxLookedAt = now;
  try {
    const backlog = await outboxBacklog(db.kysely);
    const at = clock.now();
    m.outbox = {
      depth: backlog.depth,
      oldestAgeSeconds: backlog.oldestCreatedAt === null ? 0 : Math.max(0, (at - backlog.oldestCreatedAt) / 1000),
    };
  } catch {
    // The database error is counted (db/index.ts) and the worker's next round logs it.
  }
}
