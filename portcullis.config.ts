import type { ResourceRoute } from './lib/gate/paths';

/**
 * Resources this deployment protects: path prefix → resource id. Conditional access
 * policies target these ids. "portal" is the User Portal (with its security and admin
 * pages); "demo" is the example app in app/apps/demo.
 */
export const portalResources: ResourceRoute[] = [
  { prefix: '/portal', resource: 'portal' },
  { prefix: '/admin', resource: 'portal' },
  { prefix: '/apps/demo', resource: 'demo' },
];
