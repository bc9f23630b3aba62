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

let current: CompiledConfig | null = null;
let loading: { version: number; promise: Promise<CompiledConfig> } | null = null;

/**
 * Policies and MFA settings, compiled once per configuration version. The version comes
 * with the session lookup, so a change made on any instance is picked up at the next
 * request without polling. A compile error propagates: the gate then fails closed.
 */
export async function compiledConfig(db: Kysely<Database>, version: number): Promise<CompiledConfig> {
  if (current && current.version === version) return current;
  if (loading && loading.version === version) return loading.promise;
  const promise = (async () => {
    const [records, settings] = await Promise.all([loadPolicyRecords(db), loadMfaSettings(db)]);
    const compiled = { version, policies: compilePolicies(records), settings };
    current = compiled;
    return compiled;
  })();
  loading = { version, promise };
  try {
    return await promise;
  } finally {
    if (loading?.promise === promise) loading = null;
  }
}
