import { declaredResources } from '../../../lib/gate/declared-resources';

/**
 * R-C4: the resources a policy may target: the User Portal, the portal's own paths
 * (portcullis.config.ts) and the resources on other hosts (PORTCULLIS_RESOURCES), each
 * labelled with where it lives. Server only: it reads the environment (the client form gets
 * the list as a prop).
 */
export function resourceOptions(): { value: string; label: string }[] {
  const declared = declaredResources();
  const where = new Map<string, string[]>();
  for (const route of declared.hostRoutes) {
    const place = route.host === declared.portalHost ? route.prefix : `${route.host}${route.prefix}`;
    where.set(route.resource, [...(where.get(route.resource) ?? []), place]);
  }
  return declared.ids.map((id) =>
    id === 'portal' ? { value: id, label: 'User Portal' } : { value: id, label: `${id} (${(where.get(id) ?? []).join(', ')})` },
  );
}
