import { redirect } from 'next/navigation';
import { accessFor, resourceOfPath } from '../gate/require-access';
import { destinationFor } from '../gate/access';
import type { SessionContext } from './sessions';
import type { Decision } from '../policy';

/**
 * For the pages the gate sends people to (/mfa/*): a signed-in session and the decision
 * for where they were going. Without a session they go to sign in first.
 */
export async function sessionAndDecisionFor(returnTo: string): Promise<{ session: SessionContext; decision: Decision }> {
  const { session, decision } = await accessFor(resourceOfPath(returnTo));
  if (!session) redirect(destinationFor({ kind: 'login', rule: 'R-D1' }, returnTo)!);
  return { session, decision };
}
