import { createMfaGate } from './lib/gate';
import { portalResources } from './portcullis.config';

/**
 * The portal's own gate. App teams mount the same createMfaGate() in front of their routes
 * (see README, "Protect your own routes"). Next.js 16 calls this file `proxy.ts`; the
 * gate is a plain function, so it works under either name.
 */
export default createMfaGate({ resources: portalResources });

export const config = {
  // Everything but static assets (Next's own, and exactly the files in public/) passes
  // through the gate; it ignores paths that belong to no declared resource, so the sign-in
  // page and the API stay reachable. The sign-in form's POST target (exactly /login/submit)
  // belongs to no resource and skips the gate's request setup entirely; the route checks
  // origin and size itself (test/unit/gate/matcher.test.ts, test/e2e/headers.spec.ts).
  // Likewise the forward-auth endpoints (exactly /api/authz/forward-auth and
  // /api/authz/auth-request): they decide about other requests and belong to no resource.
  //
  // Under `npm start` the entry server decides the portal's own paths ahead of Next.js and
  // marks a request it allowed with x-portcullis-gate-decided (lib/gate/entry-gate.ts
  // gateDecidedHeader; scripts/server.mjs strips a client's own). The middleware then does
  // not run: its decision and nonce are already made. Under `next start` a client can send
  // the header itself; that skips only this layer, never the page's own check (R-D9), and
  // costs the client only its own CSP (lib/gate/entry-gate.ts says why that is acceptable).
  matcher: [
    {
      source: '/((?!_next/static|_next/image|favicon\\.ico$|favicon\\.svg$|robots\\.txt$|login/submit$|api/authz/forward-auth$|api/authz/auth-request$).*)',
      missing: [{ type: 'header', key: 'x-portcullis-gate-decided' }],
    },
  ],
  runtime: 'nodejs',
};
