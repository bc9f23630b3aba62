import { routeAccess } from '../../../../../lib/gate';

export const dynamic = 'force-dynamic';

/** An example route handler behind the gate: it checks access itself, too (R-D9). */
export async function GET(): Promise<Response> {
  const access = await routeAccess('demo');
  if (access.response) return access.response;
  return Response.json({ username: access.session.username, aal: access.session.aal });
}
