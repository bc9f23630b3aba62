import type { SessionContext } from '../auth/sessions';
import { getAccessContext, isAccessUnavailable } from './context';
import { problemResponse } from './problem';

export type RouteAccess = { session: SessionContext; response?: undefined } | { response: Response; session?: undefined };

/**
 * R-D9 for a route handler: the session when the gate's decision allows, otherwise a
 * problem+json Response to return as it is: 401 without a session, 403 naming the rule that
 * refused (a challenge, an enrollment, a lock-out or a denial), 503 when the database cannot
 * answer (R-D10).
 *
 * @param resource the resource this route belongs to
 * @example
 * // app/apps/billing/api/invoices/route.ts
 * export async function GET() {
 *   const access = await routeAccess('billing');
 *   if (access.response) return access.response;
 *   return Response.json(await invoicesOf(access.session.userId));
 * }
 */
export async function routeAccess(resource: string): Promise<RouteAccess> {
  try {
    const { session, decisionFor } = await getAccessContext();
    const decision = await decisionFor(resource);
    if (decision.kind === 'allow' && session) return { session };
    if (decision.kind === 'login') return { response: problemResponse(401, 'Sign-in required') };
    return { response: problemResponse(403, 'Access denied', decision.rule) };
  } catch (err) {
    if (!isAccessUnavailable(err)) throw err;
    return { response: problemResponse(503, 'Temporarily unavailable') };
  }
}
