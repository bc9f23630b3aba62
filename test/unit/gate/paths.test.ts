import { describe, expect, it } from 'vitest';
import { normalizePath, resourceForPath } from '../../../lib/gate/paths';

const routes = [
  { prefix: '/portal', resource: 'portal' },
  { prefix: '/admin', resource: 'portal' },
  { prefix: '/apps/demo', resource: 'demo' },
];

describe('resourceForPath: odd spellings reach the same resource', () => {
  it.each([
    ['/portal', 'portal'],
    ['/portal/security', 'portal'],
    ['/PORTAL', 'portal'],
    ['/Portal/', 'portal'],
    ['//portal', 'portal'],
    ['/%70ortal', 'portal'],
    ['/%2570ortal', 'portal'],
    ['/x/../portal', 'portal'],
    ['/./apps/demo/x', 'demo'],
    ['/apps/DEMO', 'demo'],
    ['/admin/users', 'portal'],
  ])('%s → %s', (path, resource) => {
    expect(resourceForPath(path, routes, 'portal')).toBe(resource);
  });

  it.each([['/login'], ['/portalx'], ['/apps/demonstration'], ['/api/auth/csrf'], ['/']])('%s is public', (path) => {
    expect(resourceForPath(path, routes, 'portal')).toBeNull();
  });

  it('a path that cannot be decoded is treated as protected (fail closed)', () => {
    expect(resourceForPath('/%E0%A4%A', routes, 'portal')).toBe('portal');
    expect(normalizePath('/%E0%A4%A')).toBeNull();
  });
});
