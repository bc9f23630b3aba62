import { createForwardAuthHandler } from '../../../../lib/gate/forward-auth';

export const dynamic = 'force-dynamic';

/**
 * Traefik ForwardAuth / Caddy forward_auth (lib/gate/forward-auth.ts). Proxies send GET,
 * but any method the subrequest uses is answered alike.
 */
const handler = createForwardAuthHandler('forward-auth');
export { handler as GET, handler as HEAD, handler as POST, handler as PUT, handler as PATCH, handler as DELETE };
