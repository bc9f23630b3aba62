import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { loadPolicyRecords } from '../../db/queries/policies';
import { loadMfaSettings } from '../../db/queries/settings';
import { compilePolicies, type CompiledPolicy, type MfaSettings } from '../policy';

interface CompiledConfig {
  version: number;
  policies: CompiledPolicy[];
  settings: MfaSettings;
}

interface CacheEntry {
  current: CompiledConfig | null;
  loading: { version: number; promise: Promise<CompiledConfig> } | null;
}

// NOTE: keyed by database handle, so two databases in one process (tests) never share policies.
const caches = new WeakMap<Kysely<Database>, CacheEntry>();

/**
 * Policies and MFA settings, compiled once per configuration version. The version comes
 * with the session lookup, so a change made on any instance is picked up at the next
 * request without polling. A compile error propagates: the gate then fails closed.
 */
export async function compiledConfig(db: Kysely<Database>, version: number): Promise<CompiledConfig> {
  let entry = caches.get(db);
  if (!entry) {
    entry = { current: null, loading: null };
    caches.set(db, entry);
  }
  if (entry.current && entry.current.version === version) return entry.current;
  if (entry.loading && entry.loading.version === version) return entry.loading.promise;
  const cache = entry;
  const promise = (async () => {
    const [records, settings] = await Promise.all([loadPolicyRecords(db), loadMfaSettings(db)]);
    const compiled = { version, policies: compilePolicies(records), settings };
    cache.current = compiled;
    return compiled;
  })();
  cache.loading = { version, promise };
  try {
    return await promise;
  } finally {
    if (cache.loading?.promise === promise) cache.loading = null;
  }
}
