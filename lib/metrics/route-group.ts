/**
 * Which route group a request target belongs to, for the request-duration histogram: the
 * first path segment, mapped onto a fixed list (./definitions.ts routeGroups). The path
 * itself never becomes a label: a client can make up any number of them.
 */
import type { routeGroups } from './definitions';

export type RouteGroup = (typeof routeGroups)[number];

const byFirstSegment: Readonly<Record<string, RouteGroup>> = {
  healthz: 'health',
  readyz: 'health',
  metrics: 'metrics',
  login: 'login',
  signout: 'signout',
  mfa: 'mfa',
  portal: 'portal',
  account: 'account',
  admin: 'admin',
  apps: 'apps',
  _next: 'static',
  'favicon.ico': 'static',
  'favicon.svg': 'static',
  'robots.txt': 'static',
};

const underApi: Readonly<Record<string, RouteGroup>> = {
  v1: 'api',
  auth: 'auth',
  authz: 'forward_auth',
};

/** The segment after `/` up to the next `/` or the end (`?` ends the path). */
function segmentAt(target: string, start: number): string {
  let end = start;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */) break;
    end++;
  }
  return target.slice(start, end);
}

/**
 * @param target the request target as received (`/mfa/verify?returnTo=…`)
 * @example routeGroupOf('/api/authz/forward-auth') // 'forward_auth'
 */
export function routeGroupOf(target: string): RouteGroup {
  if (target.charCodeAt(0) !== 47) return 'other';
  const first = segmentAt(target, 1);
  if (first === 'api') {
    if (target.charCodeAt(4) !== 47) return 'other';
    return underApi[segmentAt(target, 5)] ?? 'other';
  }
  return Object.hasOwn(byFirstSegment, first) ? byFirstSegment[first]! : first === '' ? 'portal' : 'other';
}
