import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { latestEntryOfKeys } from '../../db/queries/audit';
import type { AccessContext } from './context';
import { declaredResources } from './declared-resources';
import { denialKey } from './denial-audit';

/**
 * What the denied page can tell the person it shows: which resource, which policy (by the
 * name the admin gave it), and a reference the admin can look up (the denial's audit entry,
 * written once per session and resource, R-D2). The redirect to /denied carries nothing, so
 * this reads the session's newest recorded denial, then asks the gate again: a policy
 * changed since then is not blamed.
 */
export type DenialExplanation =
  /** No session: nothing to explain, the way on is signing in. */
  | { kind: 'signed_out' }
  /** Signed in, but no recorded denial (an undeclared app, or the page opened directly). */
  | { kind: 'unknown' }
  | {
      kind: 'denied';
      resource: string;
      /** The policy's name as the admin wrote it. */
      policyName: string;
      /** The audit entry's id and time: what the admin searches for. */
      reference: { id: number; at: number };
    }
  /** The recorded denial no longer holds (a policy changed): the person can try again. */
  | { kind: 'no_longer'; resource: string; reference: { id: number; at: number } };

export async function explainDenial(db: Kysely<Database>, context: AccessContext): Promise<DenialExplanation> {
  const { session } = context;
  if (!session) return { kind: 'signed_out' };
  const keys = declaredResources().ids.map((resource) => denialKey(session.sessionId, resource));
  const entry = await latestEntryOfKeys(db, keys);
  if (!entry || !entry.targetId) return { kind: 'unknown' };
  const reference = { id: entry.id, at: entry.at };
  const decision = await context.decisionFor(entry.targetId);
  if (decision.kind !== 'deny') return { kind: 'no_longer', resource: entry.targetId, reference };
  return { kind: 'denied', resource: entry.targetId, policyName: decision.policy.name, reference };
}

/** "#1042": short enough to read out on the phone, and the audit log's own entry id. */
export function denialReference(reference: { id: number }): string {
  return `#${reference.id}`;
}
