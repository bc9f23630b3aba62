/**
 * What /metrics reads besides counters, installed by instrumentation.ts: the console's
 * cached users-per-status count and the mail worker's last round. Both come from memory.
 *
 * The user count is never made for a scrape. When the cache is cold or older than
 * `metricsUserCountsMaxAgeMs`, the scrape answers with what there is
 * (portcullis_user_counts_cached 0 while there is nothing) and starts ONE count in the
 * background, which later scrapes read; at most one runs at a time (lib/admin/user-counts.ts),
 * and a scrape every 15 s costs one count per 5 minutes, not one per scrape.
 */
import { getDb } from '../../db';
import { cachedUserCounts, countUsersByStatus } from '../admin/user-counts';
import { systemClock } from '../clock';
import { existingProcessSingleton } from '../process-singletons';
import { installScrapeSources, type CachedUserCounts } from './registry';

/** How old a cached count may be before a scrape asks for a new one (in the background). */
export const metricsUserCountsMaxAgeMs = 5 * 60_000;

async function userCountsForScrape(): Promise<CachedUserCounts | null> {
  const db = await getDb();
  const cached = cachedUserCounts(db.kysely);
  if (!cached || systemClock.now() - cached.asOf >= metricsUserCountsMaxAgeMs) {
    countUsersByStatus(db.kysely, systemClock, { maxAgeMs: metricsUserCountsMaxAgeMs }).catch(() => undefined);
  }
  return cached;
}

export function installServerScrapeSources(): void {
  installScrapeSources({
    userCounts: userCountsForScrape,
    mailWorkerLastRoundAt: () => existingProcessSingleton<{ lastRoundAt(): number }>('mailWorker')?.lastRoundAt() ?? null,
  });
}
