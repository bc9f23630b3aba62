import { redirect } from 'next/navigation';
import type { SessionContext } from '../auth/sessions';
import type { Decision } from '../policy';
import { destinationFor } from './access';
import { getAccessContext } from './context';

export interface PageAccess {
  session: SessionContext;
  /** The allowing decision, with the rule (and policy) that allowed. */
  decision: Decision & { kind: 'allow' };
}

/**
 * R-D9 for a page: the gate's decision again, from inside the page. Anything but allow
 * redirects (sign in, set up, verify, locked, denied); it never returns without access.
 * When the database cannot answer it throws, and the page fails (R-D10).
 *
 * @param resource the resource this page belongs to, e.g. 'portal' or 'billing'
 * @param returnTo where to come back to after signing in or verifying
 * @default returnTo '/portal'
 * @example
 * // app/billing/page.tsx
 * export default async function Billing() {
 *   const { session } = await requirePageAccess('billing', '/apps/billing');
 *   return <p>Hello {session.username}</p>;
 * }
 */
export async function requirePageAccess(resource: string, returnTo = '/portal'): Promise<PageAccess> {
  const { session, decisionFor } = await getAccessContext();
  const decision = await decisionFor(resource);
  if (decision.kind === 'allow' && session) return { session, decision };
  redirect(destinationFor(decision, returnTo) ?? '/login');
}
