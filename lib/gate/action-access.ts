import { redirect } from 'next/navigation';
import type { SessionContext } from '../auth/sessions';
import { destinationFor } from './access';
import { AccessUnavailable, getAccessContext, isAccessUnavailable } from './context';
import type { RequestFacts } from './decision-input';

export type ActionRefusal = 'login' | 'refused' | 'unavailable';

export type ActionAccess =
  | { ok: true; session: SessionContext; client: RequestFacts }
  | {
      ok: false;
      /** `login`: no session; `refused`: the decision is not allow; `unavailable`: the database could not answer. */
      reason: ActionRefusal;
      /** The SPEC rule that refused, when a decision did. */
      rule?: string;
      /** Where the gate would send this user (sign in, set up, verify, locked, denied), or null when unavailable. */
      redirectTo: string | null;
    };

/**
 * R-D9 for a server action: checks the gate's decision before any side effect. Never
 * redirects or throws by itself: the action returns its own refusal (or redirects to
 * `redirectTo`), so nothing runs for a refused request.
 *
 * @param resource the resource the action belongs to
 * @param returnTo where a redirect should come back to
 * @default returnTo '/portal'
 * @example
 * 'use server';
 * export async function approveInvoice(formData: FormData) {
 *   const access = await actionAccess('billing', '/apps/billing');
 *   if (!access.ok) return { error: 'Not allowed.' };
 *   await approve(access.session.userId, formData.get('id'));
 * }
 */
export async function actionAccess(resource: string, returnTo = '/portal'): Promise<ActionAccess> {
  try {
    const { session, client, decisionFor } = await getAccessContext();
    const decision = await decisionFor(resource);
    if (decision.kind === 'allow' && session) return { ok: true, session, client };
    return { ok: false, reason: decision.kind === 'login' ? 'login' : 'refused', rule: decision.rule, redirectTo: destinationFor(decision, returnTo) ?? '/login' };
  } catch (err) {
    if (!isAccessUnavailable(err)) throw err;
    return { ok: false, reason: 'unavailable', redirectTo: null };
  }
}

/**
 * The usual answer to a refused action in a form-driven page: follow the gate's redirect
 * (sign in, set up, verify, locked, denied), or fail the action when the database could not
 * answer (R-D10). Nothing of the action has run by then.
 *
 * @example
 * const access = await actionAccess('portal', '/portal/security');
 * if (!access.ok) followRefusal(access);
 */
export function followRefusal(refusal: Extract<ActionAccess, { ok: false }>): never {
  if (refusal.redirectTo === null) throw new AccessUnavailable();
  redirect(refusal.redirectTo);
}
