import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAuditOnce } from '../../db/queries/audit';
import type { Clock } from '../clock';
import type { SessionContext } from '../auth/sessions';
import type { Decision } from '../policy';
import { log } from '../log';

/**
 * R-D2 in the audit log: a denied decision is recorded once per session and resource, not
 * once per request (a denied user reloading, or a page's twenty assets, would otherwise
 * flood the log). The database's unique `dedupe_key` makes it once across instances; the
 * per-process memo below only spares the insert on the requests after the first.
 */

export const denialAuditAction = 'access.denied';

/** Keys already written (or found written) by this process, per database handle. */
const memo = new WeakMap<Kysely<Database>, Set<string>>();
/** Bounded: at this size the memo starts over; the database still keeps the entry unique. */
export const denialMemoLimit = 10_000;

function memoOf(db: Kysely<Database>): Set<string> {
  let keys = memo.get(db);
  if (!keys) {
    keys = new Set();
    memo.set(db, keys);
  }
  return keys;
}

/** The one key of a denial: the session id is already a hash of the token, never the token. */
export function denialKey(sessionId: string, resource: string): string {
  return `${denialAuditAction}:${sessionId}:${resource}`;
}

/**
 * Records a deny decision (R-D2) unless this session's denial for this resource is already
 * recorded. Never throws: the decision stands whether or not the entry could be written.
 */
export async function auditDenial(
  db: Kysely<Database>,
  session: SessionContext,
  resource: string,
  decision: Extract<Decision, { kind: 'deny' }>,
  clientIp: string,
  clock: Clock,
): Promise<void> {
  const key = denialKey(session.sessionId, resource);
  const keys = memoOf(db);
  if (keys.has(key)) return;
  try {
    await writeAuditOnce(db, key, {
      at: clock.now(),
      actorId: session.userId,
      actorLabel: session.username,
      action: denialAuditAction,
      targetType: 'resource',
      targetId: resource,
      details: { rule: decision.rule, policy: decision.policy },
      clientIp,
    });
    if (keys.size >= denialMemoLimit) keys.clear();
    keys.add(key);
  } catch (err) {
    // NOTE: the user is denied either way (fail closed); the next request tries again.
    log.error({ err }, 'could not audit a denial');
  }
}
