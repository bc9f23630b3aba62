import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { config } from '../../../middleware';
import { portalResources } from '../../../portcullis.config';
import { resourceForPath } from '../../../lib/gate/paths';

// The matcher as Next.js itself compiles and applies it (the same functions the build uses).
const require = createRequire(import.meta.url);
const { getMiddlewareMatchers } = require('next/dist/build/analysis/get-page-static-info') as {
  getMiddlewareMatchers: (m: string[], c: object) => { regexp: string }[];
};
const { getMiddlewareRouteMatcher } = require('next/dist/shared/lib/router/utils/middleware-route-matcher') as {
  getMiddlewareRouteMatcher: (m: { regexp: string }[]) => (pathname: string, req: object, query: object) => boolean;
};
const matches = getMiddlewareRouteMatcher(getMiddlewareMatchers(config.matcher, {}));
const runsGate = (path: string) => matches(path, { headers: {}, cookies: {} }, {});
const staticAsset = /^\/(_next\/static|_next\/image|favicon\.ico)/;

describe('middleware matcher: what skips the gate', () => {
  it.each(['/login/submit'])('%s (the sign-in form target) skips the gate', (path) => {
    expect(runsGate(path)).toBe(false);
  });

  it.each([
    ...portalResources.flatMap((r) => [r.prefix, `${r.prefix}/`, `${r.prefix}/x`, `${r.prefix}/x/y`]),
    '/PORTAL',
    '/Portal/',
    '//portal',
    '/%70ortal',
    '/%2570ortal',
    '/x/../portal',
    '/./apps/demo/x',
    '/apps/DEMO',
    '/admin/users',
    '/portal.rsc',
    '/login/submit/../../portal',
    '/login/submit/..%2F..%2Fportal',
    '/login/submit%2F..%2F..%2Fportal',
    '/login/submit/x',
    '/login/submitx',
    '/login/submit.rsc',
    '/LOGIN/SUBMIT',
    '/login',
  ])('%s still runs through the gate', (path) => {
    expect(runsGate(path)).toBe(true);
  });

  it('every path the matcher lets past the gate (other than static assets) belongs to no protected resource', () => {
    const segment = fc.constantFrom(
      'login', 'submit', 'portal', 'PORTAL', 'admin', 'apps', 'demo', '..', '.', '', '%2e%2e', '%2F', '%70ortal',
      'submit$', 'login%2Fsubmit', '_next', 'static', 'x', '.rsc', 'submit.rsc', '\\', ';', '%00',
    );
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        const path = `/${segments.join('/')}`;
        if (staticAsset.test(path) || runsGate(path)) return;
        expect(resourceForPath(path, portalResources, 'portal')).toBeNull();
        expect(path).toBe('/login/submit');
      }),
      { numRuns: 5000 },
    );
  });
});
