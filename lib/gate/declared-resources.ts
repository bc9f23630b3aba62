/**
 * Every resource this deployment declares, in one place: the portal's own paths
 * (portcullis.config.ts, on PORTCULLIS_ORIGIN's host) and the resources on other hosts
 * (PORTCULLIS_RESOURCES). The policy form lists these ids, return targets may be absolute
 * URLs on these hosts (R-D12), and the forward-auth endpoints resolve requests with them.
 */
import { portalResources } from '../../portcullis.config';
import { readEnv } from '../config/env';
import { hostnameOf, matchHostResource, normalizeHost, parseHostRoutes, type HostResourceRoute } from './host-routes';
import { normalizePath } from './paths';

export interface DeclaredResources {
  /** The portal's origin, e.g. `https://mfa.example.com`. */
  origin: string;
  /** The portal's own host (`host[:port]`). */
  portalHost: string;
  /** Routes by host: PORTCULLIS_RESOURCES, then the portal's own paths on the portal's host. */
  hostRoutes: readonly HostResourceRoute[];
  /** Every resource id once: `portal`, the portal's own paths' ids, then PORTCULLIS_RESOURCES'. */
  ids: readonly string[];
  /** Host names (ports removed) a return target may name: the portal's and every declared host. */
  returnHosts: readonly string[];
  /** The declared hosts other than the portal's (`host[:port]` as declared). */
  otherHosts: readonly string[];
}

let memo: { key: string; value: DeclaredResources } | undefined;

/**
 * The declared resources for the current environment; parsed once per distinct value of
 * PORTCULLIS_RESOURCES and PORTCULLIS_ORIGIN. Throws ResourceListError on a bad list.
 */
export function declaredResources(): DeclaredResources {
  const env = readEnv();
  const key = `${env.origin}\n${env.resources ?? ''}`;
  if (memo?.key === key) return memo.value;
  const value = buildDeclaredResources(env.origin, env.resources);
  memo = { key, value };
  return value;
}

/** declaredResources() for explicit values (tests, tools). */
export function buildDeclaredResources(origin: string, resourceList: string | undefined): DeclaredResources {
  const portalHost = normalizeHost(new URL(origin).host) ?? 'localhost';
  const declared = parseHostRoutes(resourceList);
  const own: HostResourceRoute[] = portalResources.map((route) => ({
    host: portalHost,
    prefix: normalizePath(route.prefix) ?? route.prefix,
    resource: route.resource,
  }));
  const ids = ['portal', ...new Set([...own, ...declared].map((route) => route.resource).filter((id) => id !== 'portal'))];
  const otherHosts = [...new Set(declared.map((route) => route.host).filter((host) => host !== portalHost))];
  const returnHosts = [...new Set([portalHost, ...otherHosts].map(hostnameOf))];
  return { origin, portalHost, hostRoutes: [...declared, ...own], ids, returnHosts, otherHosts };
}

/**
 * The resource an absolute URL belongs to, or null when no declared resource names it.
 * @example resourceOfUrl(new URL('https://app.example.com/wiki/page')) // 'wiki'
 */
export function resourceOfUrl(url: URL, resources: DeclaredResources = declaredResources()): string | null {
  return matchHostResource(url.host, url.pathname, resources.hostRoutes);
}

/**
 * The CSP sources of the other declared hosts, for form-action: a form posted to the portal
 * may be redirected to a return target there (R-D12), on any port, with the scheme a
 * return target may have (https; http only when the portal is http, which CSP lets match
 * https as well). The portal's own origin is 'self' already.
 * @example formActionSourcesOf(buildDeclaredResources('https://mfa.example.com', 'app.example.com/=wiki')) // ['https://app.example.com:*']
 */
export function formActionSourcesOf(resources: DeclaredResources = declaredResources()): string[] {
  const scheme = new URL(resources.origin).protocol === 'http:' ? 'http' : 'https';
  const portalName = hostnameOf(resources.portalHost);
  const names = new Set(resources.otherHosts.map(hostnameOf).filter((name) => name !== portalName));
  return [...names].map((name) => `${scheme}://${name}:*`);
}

/**
 * formActionSourcesOf() for the current environment, for the gates' CSP: none (the stricter
 * policy) when PORTCULLIS_RESOURCES can't be read; the forward-auth endpoints report that.
 */
export function declaredFormActionSources(): string[] {
  try {
    return formActionSourcesOf();
  } catch {
    return [];
  }
}
