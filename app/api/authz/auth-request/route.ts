import { createForwardAuthHandler } from '../../../../lib/gate/forward-auth';

export const dynamic = 'force-dynamic';

/** nginx auth_request (lib/gate/forward-auth.ts): 200, 401 or 403, with Location. */
const handler = createForwardAuthHandler('auth-request');
export { handler as GET, handler as HEAD, handler as POST, handler as PUT, handler as PATCH, handler as DELETE };
