import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { config } from '../../../middleware';
import { portalResources } from '../../../portcullis.config';
import { resourceForPath } from '../../../lib/gate/paths';
import { gateDecidedHeader } from '../../../lib/gate/entry-gate';
// @ts-expect-error -- plain ESM beside server.mjs, no type declarations
import { gateDecidedHeader as entryServersHeader } from '../../../scripts/entry-gate.mjs';

/*
 * The matcher as Next.js documents it: the source is a path pattern matched against the
 * whole pathname, a parenthesised group in it is a regular expression, and Next also runs
 * middleware for the same path behind a `/_next/data/<build>` prefix or with a `.json`/`.rsc`
 * suffix. Those variants are optional additions, so they can only make the gate run on
 * more paths. This reads the pattern as a plain regular expression over the whole pathname
 * (the variants left out): every "runs through the gate" below then holds for Next as well,
 * and the property holds a fortiori. That the built app skips exactly the files in public/
 * is checked end to end in test/e2e/headers.spec.ts.
 */
const [entry] = config.matcher;
const { source } = entry!;
const pattern = new RegExp(`^${source}$`);
const runsGate = (path: string) => pattern.test(path);
const staticAsset = /^\/(_next\/static|_next\/image)/;
const publicFiles = ['/favicon.ico', '/favicon.svg', '/robots.txt'];

describe('middleware matcher: what skips the gate', () => {
  it('is one pattern, a path with a regular-expression group (no named parameters to expand)', () => {
    expect(config.matcher).toHaveLength(1);
    expect(source).toMatch(/^\/\(.*\)$/);
    expect(source).not.toMatch(/:\w/);
  });

  it('does not run for a request the entry server marked decided (the same header name on all three sides)', () => {
    expect(entry!.missing).toEqual([{ type: 'header', key: gateDecidedHeader }]);
    expect(entryServersHeader).toBe(gateDecidedHeader);
    expect(Object.keys(entry!)).toEqual(['source', 'missing']);
  });

  it.each(['/login/submit', '/api/authz/forward-auth', '/api/authz/auth-request', ...publicFiles])('%s skips the gate', (path) => {
    expect(runsGate(path)).toBe(false);
  });

  it.each(['/robots.txt/x', '/robotsXtxt', '/favicon.svg.rsc', '/favicon.icox', '/x/robots.txt'])('%s, only near a public file, still runs through the gate', (path) => {
    expect(runsGate(path)).toBe(true);
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
    '/api/authz/forward-auth/../../../portal',
    '/api/authz/forward-auth/x',
    '/api/authz/auth-request.rsc',
    '/api/authz/forward-authx',
  ])('%s still runs through the gate', (path) => {
    expect(runsGate(path)).toBe(true);
  });

  it('every path the matcher lets past the gate (other than static assets) belongs to no protected resource', () => {
    const segment = fc.constantFrom(
      'login', 'submit', 'portal', 'PORTAL', 'admin', 'apps', 'demo', '..', '.', '', '%2e%2e', '%2F', '%70ortal',
      'submit$', 'login%2Fsubmit', '_next', 'static', 'x', '.rsc', 'submit.rsc', '\\', ';', '%00',
      'robots.txt', 'favicon.ico', 'favicon.svg', 'api', 'authz', 'forward-auth', 'auth-request',
    );
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        const path = `/${segments.join('/')}`;
        if (staticAsset.test(path) || runsGate(path)) return;
        expect(resourceForPath(path, portalResources, 'portal')).toBeNull();
        expect(['/login/submit', '/api/authz/forward-auth', '/api/authz/auth-request', ...publicFiles]).toContain(path);
      }),
      { numRuns: 5000 },
    );
  });
});
