import type { Kysely } from 'kysely';
import type { Database } from '../schema';

export interface OutboxBacklog {
  /** Messages not yet finished: pending, or being sent. */
  depth: number;
  /** created_at of the oldest of them (ms), or null when there are none. */
  oldestCreatedAt: number | null;
}

/**
 * How much mail waits, for the metrics (lib/metrics/outbox-gauges.ts): one aggregate over
 * mail_outbox_status_created_idx (status, created_at), run by the mail worker at most every
 * few seconds, never per scrape.
 */
export async function outboxBacklog(db: Kysely<Database>): Promise<OutboxBacklog> {
  const row = await db
    .selectFrom('mail_outbox')
    .select((eb) => [eb.fn.countAll<number | string | bigint>().as('depth'), eb.fn.min('created_at').as('oldest')])
    .where('status', 'in', ['pending', 'sending'])
    .executeTakeFirst();
  const oldest = row?.oldest ?? null;
  return { depth: Number(row?.depth ?? 0), oldestCreatedAt: oldest === null ? null : Number(oldest) };
}
