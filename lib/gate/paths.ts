/**
 * Path matching that odd casing, percent-encoding, doubled slashes and dot segments cannot
 * slip past: the gate compares a normalized form, and anything it cannot normalize is
 * treated as protected.
 */
export interface ResourceRoute {
  /** A path prefix such as "/portal" or "/apps/demo". */
  prefix: string;
  /** The resource id policies target: "portal" is the User Portal. */
  resource: string;
}

const maxDecodeRounds = 3;

export function normalizePath(pathname: string): string | null {
  let path = pathname;
  for (let round = 0; round < maxDecodeRounds && path.includes('%'); round++) {
    try {
      path = decodeURIComponent(path);
    } catch {
      return null;
    }
  }
  if (path.includes('%') || path.includes('\\') || path.includes('\0')) return null;
  const segments: string[] = [];
  for (const segment of path.toLowerCase().split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

function underPrefix(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix === '/' ? '/' : `${prefix}/`);
}

/**
 * The resource a path belongs to (longest prefix wins), null for a public path, and the
 * fallback resource for a path that can't be normalized (fail closed).
 */
export function resourceForPath(pathname: string, routes: readonly ResourceRoute[], fallback: string): string | null {
  return matchResource(pathname, normalizeRoutes(routes), fallback);
}

/** Routes with their prefixes normalized once, longest first, for matchResource(). */
export function normalizeRoutes(routes: readonly ResourceRoute[]): ResourceRoute[] {
  return routes
    .map((route) => ({ prefix: normalizePath(route.prefix) ?? route.prefix, resource: route.resource }))
    .sort((a, b) => b.prefix.length - a.prefix.length);
}

/** resourceForPath() for routes already passed through normalizeRoutes(). */
export function matchResource(pathname: string, normalizedRoutes: readonly ResourceRoute[], fallback: string): string | null {
  const path = normalizePath(pathname);
  if (path === null) return fallback;
  for (const route of normalizedRoutes) {
    if (underPrefix(path, route.prefix)) return route.resource;
  }
  return null;
}
