import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { getActiveApiKeyByHash, insertApiKey, markApiKeyUsed, type ApiKeyRow } from '../../db/queries/api-keys';
import { writeAudit } from '../../db/queries/audit';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { fromZod } from './errors';

const keyPrefix = 'pcl_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

const newKeySchema = z.object({
  name: z.string().trim().min(1, 'Name is required.').max(100),
  role: z.enum(['admin', 'read']).default('admin'),
});

/** Creates an API key and returns it once; only its hash is stored. */
export async function createApiKey(
  db: Kysely<Database>,
  input: unknown,
  actor: Actor,
  clock: Clock,
): Promise<{ id: string; key: string }> {
  const parsed = newKeySchema.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const key = `${keyPrefix}${randomBytes(32).toString('base64url')}`;
  const id = randomUUID();
  await db.transaction().execute(async (trx) => {
    const now = clock.now();
    await insertApiKey(trx, {
      id,
      name: parsed.data.name,
      key_hash: hashApiKey(key),
      prefix: key.slice(0, keyPrefix.length + 6),
      role: parsed.data.role,
      created_at: now,
      created_by: actor.id,
      last_used_at: null,
      revoked_at: null,
    });
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'api_key.created',
      targetType: 'api_key',
      targetId: id,
      details: { name: parsed.data.name, role: parsed.data.role },
      clientIp: actor.clientIp,
    });
  });
  return { id, key };
}

/** The live key for a bearer value, or undefined. */
export async function authenticateApiKey(db: Kysely<Database>, bearer: string, clock: Clock): Promise<ApiKeyRow | undefined> {
  if (!bearer.startsWith(keyPrefix) || bearer.length > 200) return undefined;
  const row = await getActiveApiKeyByHash(db, hashApiKey(bearer));
  if (row) await markApiKeyUsed(db, row.id, clock.now());
  return row;
}
