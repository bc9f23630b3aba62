import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDeclaredResources, formActionSourcesOf } from '../../../lib/gate/declared-resources';
import { resourceOfPath } from '../../../lib/gate/resources';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { contentSecurityPolicy, newCspNonce } from '../../../lib/http/csp';
import { resourceOptions } from '../../../app/admin/policies/resource-options';

/*
 * The places that know the declared resources agree with PORTCULLIS_RESOURCES (issue 14,
 * section 2): the return-target rule's default, the resource a return target belongs to
 * (what the verify and Set Up pages decide for), the policy form's list, and the CSP's
 * form-action. The deployment: the portal at https://portal.example.com, the wiki at
 * app.example.com, billing under example.com/billing.
 */
const saved = { origin: process.env.PORTCULLIS_ORIGIN, resources: process.env.PORTCULLIS_RESOURCES };

beforeEach(() => {
  process.env.PORTCULLIS_ORIGIN = 'https://portal.example.com';
  process.env.PORTCULLIS_RESOURCES = 'app.example.com/=wiki example.com/billing=billing';
});

afterEach(() => {
  for (const [key, name] of [['origin', 'PORTCULLIS_ORIGIN'], ['resources', 'PORTCULLIS_RESOURCES']] as const) {
    if (saved[key] === undefined) delete process.env[name];
    else process.env[name] = saved[key];
  }
});

describe('return targets follow the declared resources by default', () => {
  it("keeps https URLs on the portal's and the declared hosts, refuses the rest", () => {
    expect(safeReturnPath('https://app.example.com/wiki/page')).toBe('https://app.example.com/wiki/page');
    expect(safeReturnPath('https://example.com/billing/invoices')).toBe('https://example.com/billing/invoices');
    expect(safeReturnPath('https://portal.example.com/portal/security')).toBe('/portal/security');
    expect(safeReturnPath('https://evil.example.com/')).toBe('/portal');
    expect(safeReturnPath('http://app.example.com/wiki/page')).toBe('/portal');
  });

  it('a bad PORTCULLIS_RESOURCES keeps no absolute URL (and a path still works)', () => {
    process.env.PORTCULLIS_RESOURCES = 'app.example.com/=Not An Id';
    expect(safeReturnPath('https://app.example.com/wiki/page')).toBe('/portal');
    expect(safeReturnPath('/portal/security')).toBe('/portal/security');
  });
});

describe('the resource a return target belongs to', () => {
  it('an absolute URL maps through the declared resources', () => {
    expect(resourceOfPath('https://app.example.com/wiki/page?x=1')).toBe('wiki');
    expect(resourceOfPath('https://example.com/billing/invoices')).toBe('billing');
  });

  it('a URL no resource covers is the portal, as an undeclared path always was', () => {
    expect(resourceOfPath('https://example.com/elsewhere')).toBe('portal');
    expect(resourceOfPath('https://portal.example.com/apps/demo/x')).toBe('demo');
    expect(resourceOfPath('/apps/demo/report?x=1')).toBe('demo');
    expect(resourceOfPath('/somewhere')).toBe('portal');
  });
});

describe('the policy form lists every declared resource (R-C4)', () => {
  it('the User Portal, the portal’s own paths and the resources on other hosts', () => {
    expect(resourceOptions()).toEqual([
      { value: 'portal', label: 'User Portal' },
      { value: 'demo', label: 'demo (/apps/demo)' },
      { value: 'wiki', label: 'wiki (app.example.com/)' },
      { value: 'billing', label: 'billing (example.com/billing)' },
    ]);
  });
});

describe("form-action lets the sign-in, verify and Set Up forms be redirected to declared hosts", () => {
  it('the other declared hosts, any port, with the scheme a return target may have', () => {
    expect(formActionSourcesOf()).toEqual(['https://app.example.com:*', 'https://example.com:*']);
    expect(formActionSourcesOf(buildDeclaredResources('http://portal.example.test:3000', 'app.example.test/=wiki'))).toEqual(['http://app.example.test:*']);
    expect(formActionSourcesOf(buildDeclaredResources('https://portal.example.com', undefined))).toEqual([]);
  });

  it('reach the policy; anything not a plain origin is left out', () => {
    const nonce = newCspNonce();
    const formAction = (sources: string[]) =>
      contentSecurityPolicy({ nonce, formActionSources: sources })
        .split('; ')
        .find((d) => d.startsWith('form-action'));
    expect(formAction(formActionSourcesOf())).toBe("form-action 'self' https://app.example.com:* https://example.com:*");
    expect(formAction(["https://evil.example; script-src 'unsafe-inline'", '*', 'https://*', 'javascript:x', 'https://a.example/path'])).toBe("form-action 'self'");
  });
});
