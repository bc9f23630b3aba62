/**
 * Resources on other hosts: `app.example.com/` → `wiki`, `example.com/billing` → `billing`.
 * The forward-auth endpoints and remote gates name a request by host and path; this says
 * which resource that is. Pure: parsing and matching only, no environment and no I/O.
 *
 * A host no route names, and a path on a named host that no prefix covers, belong to no
 * resource: callers deny those (fail closed), they never let them through.
 */
import { normalizePath } from './paths';

export interface HostResourceRoute {
  /** Lower-case host name, with `:port` only when the declaration gave one. */
  host: string;
  /** A normalized path prefix; `/` covers the whole host. */
  prefix: string;
  /** The resource id policies target. */
  resource: string;
}

const hostPattern = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/;
const resourcePattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const maxRoutes = 500;

export class ResourceListError extends Error {
  override name = 'ResourceListError';
}

/**
 * A host as declared or as a request names it: lower case, no trailing dot, `:port` kept.
 * Null for anything that isn't a plain `host[:port]` (user info, brackets, spaces, a port
 * out of range).
 */
export function normalizeHost(value: string): string | null {
  const host = value.trim().toLowerCase().replace(/\.(?=$|:)/, '');
  if (host.length === 0 || host.length > 260 || !hostPattern.test(host)) return null;
  const port = host.includes(':') ? Number(host.slice(host.indexOf(':') + 1)) : null;
  if (port !== null && (port < 1 || port > 65535)) return null;
  return host;
}

/** The host without its port. */
export function hostnameOf(host: string): string {
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/**
 * Parses `PORTCULLIS_RESOURCES`: entries `host[/prefix]=resource`, separated by commas or
 * whitespace. Throws ResourceListError naming the first bad entry, so a typo stops the
 * server at start (lib/config/schema.ts) instead of leaving an app open or shut without a word.
 *
 * @example parseHostRoutes('app.example.com/=wiki, example.com/billing=billing')
 */
export function parseHostRoutes(text: string | undefined): HostResourceRoute[] {
  if (!text || !text.trim()) return [];
  const entries = text.split(/[\s,]+/).filter(Boolean);
  if (entries.length > maxRoutes) throw new ResourceListError(`PORTCULLIS_RESOURCES: at most ${maxRoutes} entries`);
  const seen = new Set<string>();
  return entries.map((entry) => {
    const equals = entry.lastIndexOf('=');
    if (equals <= 0) throw new ResourceListError(`PORTCULLIS_RESOURCES: "${entry}" is not host/prefix=resource`);
    const target = entry.slice(0, equals);
    const resource = entry.slice(equals + 1).toLowerCase();
    if (!resourcePattern.test(resource)) {
      throw new ResourceListError(`PORTCULLIS_RESOURCES: "${entry}": a resource id is letters, digits, - and _ (at most 64)`);
    }
    const slash = target.indexOf('/');
    const host = normalizeHost(slash === -1 ? target : target.slice(0, slash));
    if (host === null) throw new ResourceListError(`PORTCULLIS_RESOURCES: "${entry}": "${target}" does not start with a host name`);
    const prefix = normalizePath(slash === -1 ? '/' : target.slice(slash));
    if (prefix === null) throw new ResourceListError(`PORTCULLIS_RESOURCES: "${entry}": the path prefix has odd encodings`);
    const key = `${host}${prefix}`;
    if (seen.has(key)) throw new ResourceListError(`PORTCULLIS_RESOURCES: "${host}${prefix}" is declared twice`);
    seen.add(key);
    return { host, prefix, resource };
  });
}

function underPrefix(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix === '/' ? '/' : `${prefix}/`);
}

/**
 * The resource a request on `host` for `pathname` is, or null (no route names it: deny).
 * A route declared with a port matches only that port; one without matches any port of
 * its host. The longest matching prefix wins; a route with a port beats one without.
 * A path that can't be normalized (odd encodings) matches nothing.
 */
export function matchHostResource(host: string, pathname: string, routes: readonly HostResourceRoute[]): string | null {
  const requestHost = normalizeHost(host);
  const path = normalizePath(pathname);
  if (requestHost === null || path === null) return null;
  const requestName = hostnameOf(requestHost);
  let best: { route: HostResourceRoute; score: number } | null = null;
  for (const route of routes) {
    const withPort = route.host.includes(':');
    if (withPort ? route.host !== requestHost : route.host !== requestName) continue;
    if (!underPrefix(path, route.prefix)) continue;
    const score = route.prefix.length * 2 + (withPort ? 1 : 0);
    if (!best || score > best.score) best = { route, score };
  }
  return best?.route.resource ?? null;
}
