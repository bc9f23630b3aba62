import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import {
  getActiveApiKeyByHash,
  insertApiKey,
  listApiKeyRows,
  markApiKeyUsed,
  revokeApiKeyRow,
  type ApiKeyRow,
} from '../../db/queries/api-keys';
import { writeAudit } from '../../db/queries/audit';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { NotFoundError, parseInput } from './errors';

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
  const data = parseInput(newKeySchema, input);
  const key = `${keyPrefix}${randomBytes(32).toString('base64url')}`;
  const id = randomUUID();
  await db.transaction().execute(async (trx) => {
    const now = clock.now();
    await insertApiKey(trx, {
      id,
      name: data.name,
      key_hash: hashApiKey(key),
      prefix: key.slice(0, keyPrefix.length + 6),
      role: data.role,
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
      details: { name: data.name, role: data.role },
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

/** An API key as the console lists it: never the key or its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  /** The first characters of the key, to tell keys apart ("pcl_AbC123"). */
  prefix: string;
  role: 'admin' | 'read';
  createdAt: number;
  createdBy: string | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** Every key, newest first, revoked ones included. */
export async function listApiKeys(db: Kysely<Database>): Promise<ApiKeyView[]> {
  const rows = await listApiKeyRows(db);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    role: r.role,
    createdAt: r.created_at,
    createdBy: r.created_by,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  }));
}

/**
 * Revokes a key at once (the next request with it gets 401); audited in the same transaction.
 * @throws NotFoundError('api key') for an unknown or already revoked key.
 */
export async function revokeApiKey(db: Kysely<Database>, id: string, actor: Actor, clock: Clock): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const now = clock.now();
    const revoked = typeof id === 'string' && id.length <= 200 ? await revokeApiKeyRow(trx, id, now) : undefined;
    if (!revoked) throw new NotFoundError('api key', [String(id).slice(0, 200)]);
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'api_key.revoked',
      targetType: 'api_key',
      targetId: id,
      details: { name: revoked.name },
      clientIp: actor.clientIp,
    });
  });
}
