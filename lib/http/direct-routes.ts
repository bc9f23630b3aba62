/**
 * Route handlers that `scripts/server.mjs` (the `npm start` entry) may serve itself, ahead
 * of Next.js. Next's request pipeline costs about 0.75 ms of CPU per request; for the
 * sign-in post, whose own work is one argon2 verify, that is most of what it adds (the
 * login bench's goal, bench/RESULTS.md). The handler is the very function Next serves at the same path, so both
 * ways answer alike; under plain `next start` nothing is registered and Next serves it.
 *
 * Only public, unguarded routes belong here: server.mjs does not run middleware.ts for
 * them. Matching is exact (method and pathname); anything else goes to Next.js.
 */
import { processSingleton } from '../process-singletons';

export type DirectHandler = (request: Request) => Promise<Response>;

const directRouteKey = (method: string, pathname: string) => `${method.toUpperCase()} ${pathname}`;

// NOTE: a process singleton (lib/process-singletons.ts) because instrumentation.ts (which
// registers) is bundled apart from server.mjs (which looks up), and they meet only in the
// process. scripts/direct-route.mjs reads the map under the same key and builds the same
// "METHOD /path" strings.
export function registerDirectRoute(method: string, pathname: string, handler: DirectHandler): void {
  processSingleton('direct-routes', () => new Map<string, DirectHandler>()).set(directRouteKey(method, pathname), handler);
}
