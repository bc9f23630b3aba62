import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  boundedLabel,
  maxResourceLabels,
  metricDefinitions,
  metricPrefix,
  resourceLabel,
  routeGroups,
  signInOutcomes,
  statusClassOf,
} from '../../../lib/metrics/definitions';
import { routeGroupOf } from '../../../lib/metrics/route-group';

/*
 * What /metrics may say. An operator alerts on these series, and a series per user, address
 * or path would grow without end (and tell a reader of the scrape who signs in from where).
 * Personas: Ada, a user whose name must never become a label; Mallory, who makes up paths
 * and headers to grow the scrape.
 */
describe('metric definitions', () => {
  it('name every metric portcullis_… in Prometheus’s name syntax, and say what each one is', () => {
    for (const d of Object.values(metricDefinitions)) {
      expect(d.name.startsWith(metricPrefix)).toBe(true);
      expect(d.name).toMatch(/^[a-z_][a-z0-9_]*$/);
      expect(d.help.length).toBeGreaterThan(10);
      if (d.type === 'counter') expect(d.name.endsWith('_total')).toBe(true);
    }
  });

  it('give every label a fixed list of values, the resource label alone coming from configuration', () => {
    for (const d of Object.values(metricDefinitions)) {
      for (const [label, values] of Object.entries(d.labels)) {
        expect(label).toMatch(/^[a-z_]+$/);
        if (values === 'resource') {
          expect(label).toBe('resource');
          continue;
        }
        expect(values.length).toBeGreaterThan(0);
        expect(values.length).toBeLessThanOrEqual(20);
        for (const v of values) expect(v).toMatch(/^[a-z0-9_]+$/);
      }
    }
  });

  it('have no label that could hold a user, an address, an id or a path', () => {
    const labels = Object.values(metricDefinitions).flatMap((d) => Object.keys(d.labels));
    for (const banned of ['user', 'username', 'user_id', 'ip', 'address', 'client', 'id', 'path', 'url', 'email', 'session']) {
      expect(labels).not.toContain(banned);
    }
  });

  it('turn anything outside a label’s list into "other": Ada’s name never becomes a value', () => {
    expect(boundedLabel(signInOutcomes, 'ok')).toBe('ok');
    expect(boundedLabel(signInOutcomes, 'ada')).toBe('other');
    fc.assert(
      fc.property(fc.string(), (value) => {
        const label = boundedLabel(signInOutcomes, value);
        return label === 'other' || (signInOutcomes as readonly string[]).includes(label);
      }),
    );
  });

  it('take resource ids of a resource id’s shape, at most a bounded number of them', () => {
    const seen = new Set<string>();
    expect(resourceLabel('portal', seen)).toBe('portal');
    expect(resourceLabel(null, seen)).toBe('none');
    expect(resourceLabel('a b', seen)).toBe('other');
    expect(resourceLabel('x'.repeat(65), seen)).toBe('other');
    for (let i = 0; i < maxResourceLabels * 2; i++) resourceLabel(`app-${i}`, seen);
    expect(seen.size).toBe(maxResourceLabels);
    expect(resourceLabel('one-too-many', seen)).toBe('other');
    expect(resourceLabel('portal', seen)).toBe('portal');
  });

  it('group statuses by class', () => {
    expect([101, 200, 204, 303, 401, 404, 503].map(statusClassOf)).toEqual(['1xx', '2xx', '2xx', '3xx', '4xx', '4xx', '5xx']);
    expect(statusClassOf(0)).toBe('other');
    expect(statusClassOf(600)).toBe('other');
  });
});

describe('route groups of the request-duration histogram', () => {
  it('name the portal’s areas from the first path segment, whatever follows', () => {
    expect(routeGroupOf('/healthz')).toBe('health');
    expect(routeGroupOf('/readyz?x=1')).toBe('health');
    expect(routeGroupOf('/metrics')).toBe('metrics');
    expect(routeGroupOf('/login/submit')).toBe('login');
    expect(routeGroupOf('/mfa/verify?returnTo=%2Fportal')).toBe('mfa');
    expect(routeGroupOf('/portal/security')).toBe('portal');
    expect(routeGroupOf('/admin/users/0b7c…')).toBe('admin');
    expect(routeGroupOf('/api/v1/users/42')).toBe('api');
    expect(routeGroupOf('/api/auth/session')).toBe('auth');
    expect(routeGroupOf('/api/authz/forward-auth')).toBe('forward_auth');
    expect(routeGroupOf('/_next/static/chunks/a.js')).toBe('static');
    expect(routeGroupOf('/favicon.ico')).toBe('static');
    expect(routeGroupOf('/')).toBe('portal');
  });

  it('put everything Mallory makes up into one of the fixed groups', () => {
    expect(routeGroupOf('/ada')).toBe('other');
    expect(routeGroupOf('/api')).toBe('other');
    expect(routeGroupOf('/api/x')).toBe('other');
    expect(routeGroupOf('http://evil.example/portal')).toBe('other');
    expect(routeGroupOf('/constructor')).toBe('other');
    expect(routeGroupOf('/__proto__')).toBe('other');
    fc.assert(fc.property(fc.string(), (target) => (routeGroups as readonly string[]).includes(routeGroupOf(target))));
    fc.assert(fc.property(fc.webPath(), (target) => (routeGroups as readonly string[]).includes(routeGroupOf(target))));
  });
});
