import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { anyGraceRunning, countUserFacets } from '../../db/queries/user-directory';
import { loadCountingFactorTypes } from '../factors/counting';
import { mfaStatus, statusWithGrace, type MfaRequirement, type MfaStatusName } from '../policy';
import type { Clock } from '../clock';
import { processSingleton } from '../process-singletons';

/**
 * Users per MFA status for the users list header and the console home, cached per process
 * and database. A module of its own so that the self-service factor changes (lib/factors)
 * can say "counts changed" without loading the admin directory.
 */

export interface UserCounts {
  total: number;
  byStatus: Record<MfaStatusName, number>;
  required: number;
  notRequired: number;
  /** When these were counted (ms): exact as of then. */
  asOf: number;
}

/** How long one process serves a count before it counts again (in the background). */
export const userCountsMaxAgeMs = 30_000;

interface RunningCount {
  promise: Promise<UserCounts>;
  /** The entry's generation when this count started: it sees every change up to it. */
  generation: number;
}

interface CountCacheEntry {
  /** The latest finished count, if any. */
  value: UserCounts | null;
  /** The generation `value` was counted at. */
  valueGeneration: number;
  /** Bumped by every change made in this process (invalidateUserCounts()). */
  generation: number;
  /** The newest count in progress, if any. */
  running: RunningCount | null;
}

/**
 * NOTE: on globalThis (lib/process-singletons.ts): the console's pages, its server actions
 * and the portal's factor actions may be bundled apart, and a change made through one copy
 * must mark the count every copy serves.
 */
function countCache(): WeakMap<Kysely<Database>, CountCacheEntry> {
  return processSingleton('user-counts', () => new WeakMap<Kysely<Database>, CountCacheEntry>());
}

function zeroByStatus(): Record<MfaStatusName, number> {
  return { enrolled: 0, not_enrolled: 0, enrollment_period: 0, expired: 0, pre_enrollment: 0 };
}

/** One exact count, as of `now`: users grouped by the facts mfaStatus() reads, classified by mfaStatus() itself. */
async function countNow(db: Kysely<Database>, now: number): Promise<UserCounts> {
  const rule = await loadCountingFactorTypes(db);
  // Issue 18 part 6: grace windows are probed only when one runs at all.
  const facets = await countUserFacets(db, rule, now, await anyGraceRunning(db, now));
  const byStatus = zeroByStatus();
  let total = 0;
  let required = 0;
  for (const f of facets) {
    // Only what mfaStatus() reads is real here: the period's end is "still running" or not.
    const requirement: MfaRequirement | null = f.required
      ? { required: true, enrollmentDays: 1, periodStartsAt: null, periodEndsAt: f.periodRunning ? now + 1 : null }
      : null;
    const state = f.staged ? 'staged' : 'active';
    const plain = mfaStatus({ state }, requirement, f.enrolled, now);
    const status = statusWithGrace(plain, f.inGrace ? { startsAt: now, endsAt: now + 1 } : null, { state, enrolled: f.enrolled }).status;
    byStatus[status] += f.count;
    total += f.count;
    if (f.required) required += f.count;
  }
  return { total, byStatus, required, notRequired: total - required, asOf: now };
}

function startCount(db: Kysely<Database>, entry: CountCacheEntry, clock: Clock): RunningCount {
  const generation = entry.generation;
  const promise = countNow(db, clock.now());
  const running = { promise, generation };
  entry.running = running;
  promise.then(
    (value) => {
      if (entry.running === running) entry.running = null;
      // A count that saw more changes wins; among equals, the later one.
      const newer = generation > entry.valueGeneration || (generation === entry.valueGeneration && (!entry.value || entry.value.asOf <= value.asOf));
      if (newer) {
        entry.value = value;
        entry.valueGeneration = generation;
      }
    },
    () => {
      if (entry.running === running) entry.running = null;
    },
  );
  return running;
}

/**
 * Users per MFA status: an exact grouped count (one statement, a factor probe per user),
 * cached per process and database.
 *
 * - The first view (per process and database) waits for a count.
 * - After a change made in this process (invalidateUserCounts(), which the services call
 *   once their transaction commits), the next view waits for a count that started after
 *   the change: the admin who just required MFA for ten users sees them counted. If that
 *   count fails, the previous one is served (its `asOf` says when it was made).
 * - Otherwise a count older than `maxAgeMs` (30 s) is still returned at once while ONE
 *   count runs in the background, for changes made by other processes and for statuses
 *   that move with time alone; the views after it finishes get the new one.
 *
 * NOTE: statuses move with time alone (a period ends without a write), so counters updated
 * on writes would drift; a recent exact count never does by more than its age.
 */
export async function countUsersByStatus(
  db: Kysely<Database>,
  clock: Clock,
  options: { maxAgeMs?: number } = {},
): Promise<UserCounts> {
  const maxAge = options.maxAgeMs ?? userCountsMaxAgeMs;
  const cache = countCache();
  let entry = cache.get(db);
  if (!entry) {
    entry = { value: null, valueGeneration: -1, generation: 0, running: null };
    cache.set(db, entry);
  }
  const value = entry.value;
  if (!value || entry.valueGeneration < entry.generation) {
    const running = entry.running && entry.running.generation === entry.generation ? entry.running : startCount(db, entry, clock);
    try {
      return await running.promise;
    } catch (err) {
      if (value) return value;
      throw err;
    }
  }
  const now = clock.now();
  const fresh = now >= value.asOf && now - value.asOf < maxAge;
  if (!fresh && !entry.running) {
    // Errors are handled in startCount(); this view does not wait for it.
    startCount(db, entry, clock).promise.catch(() => undefined);
  }
  return value;
}

/**
 * The latest finished count for `db`, without counting or waiting: null while none was made
 * in this process. /metrics reads this (lib/metrics/scrape-sources.ts), never a count per scrape.
 */
export function cachedUserCounts(db: Kysely<Database>): UserCounts | null {
  return countCache().get(db)?.value ?? null;
}

/**
 * The count running in the background for `db`, if any (tests and bench/admin.ts await it).
 */
export function userCountsRefresh(db: Kysely<Database>): Promise<UserCounts> | null {
  return countCache().get(db)?.running?.promise ?? null;
}

/**
 * After a change made in this process, once it is committed: the next view waits for a new
 * count. Other processes catch up within their cache age.
 */
export function invalidateUserCounts(db: Kysely<Database>): void {
  const entry = countCache().get(db);
  if (entry) entry.generation += 1;
}
