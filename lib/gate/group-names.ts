/**
 * Group names for the Remote-Groups header, memoised per configuration version like the
 * compiled policies (policy-cache.ts): the version comes with the session lookup, and every
 * change that can alter a name (rename, delete) bumps it, so an answer never carries a
 * stale name. A group created since the last load is simply not in the map yet: an id the
 * map lacks triggers one reload.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { listGroupNames } from '../../db/queries/groups';

interface Names {
  version: number;
  byId: Map<string, string>;
}

// NOTE: keyed by database handle, so two databases in one process (tests) never share names.
const caches = new WeakMap<Kysely<Database>, { current: Names | null; loading: Promise<Names> | null; loadingVersion: number }>();

async function load(db: Kysely<Database>, version: number): Promise<Names> {
  const rows = await listGroupNames(db);
  return { version, byId: new Map(rows.map((row) => [row.id, row.name])) };
}

/**
 * The names of the groups `ids` (unknown ids, e.g. a group deleted meanwhile, are left out).
 * @param version the configuration version the session lookup returned
 */
export async function groupNamesOf(db: Kysely<Database>, version: number, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  let entry = caches.get(db);
  if (!entry) {
    entry = { current: null, loading: null, loadingVersion: -1 };
    caches.set(db, entry);
  }
  let names = entry.current;
  if (!names || names.version !== version || ids.some((id) => !names!.byId.has(id))) {
    if (!entry.loading || entry.loadingVersion !== version) {
      const cache = entry;
      const promise = load(db, version).finally(() => {
        if (cache.loading === promise) cache.loading = null;
      });
      cache.loading = promise;
      cache.loadingVersion = version;
    }
    names = await entry.loading!;
    entry.current = names;
  }
  return ids.flatMap((id) => {
    const name = names!.byId.get(id);
    return name === undefined ? [] : [name];
  });
}
