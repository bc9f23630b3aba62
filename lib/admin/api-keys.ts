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
import { oneDay, type Clock } from '../clock';
import type { Actor } from './actor';
import { NotFoundError, parseInput } from './errors';
import { apiKeyRoles, type ApiKeyRole } from './permissions';

const keyPrefix = 'pcl_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The longest expiry a key can be given, in days (two years). */
export const maxApiKeyDays = 730;
export const apiKeyDaysMessage = `Expiry must be a whole number of days from 1 to ${maxApiKeyDays}, or none.`;

export const newApiKeySchema = z.object(
  {
    name: z.string('Name is required.').trim().min(1, 'Name is required.').max(100, 'Name is at most 100 characters.'),
    /** Least privilege: a key reads unless the admin asks for more (lib/admin/permissions.ts). */
    role: z.enum(apiKeyRoles, 'Access must be admin, helpdesk or read.').default('read'),
    /** Days until the key stops working; left out: it does not expire. */
    expiresInDays: z
      .number(apiKeyDaysMessage)
      .int(apiKeyDaysMessage)
      .min(1, apiKeyDaysMessage)
      .max(maxApiKeyDays, apiKeyDaysMessage)
      .optional(),
  },
  'Expected an object.',
);

export interface NewApiKey {
  id: string;
  /** The key itself: shown once, never stored. */
  key: string;
  role: ApiKeyRole;
  /** When the key stops working (ms), or null. */
  expiresAt: number | null;
}

/**
 * Creates an API key and returns it once; only its hash is stored.
 *
 * @param input `name`; `role` ('read' by default, 'helpdesk' for its user tasks, 'admin' to change things);
 *   `expiresInDays` 1–730 (left out: no expiry).
 * @throws ValidationError for a bad name, role or expiry.
 * @example const { key } = await createApiKey(db, { name: 'dashboards', expiresInDays: 90 }, actor, clock)
 */
export async function createApiKey(db: Kysely<Database>, input: unknown, actor: Actor, clock: Clock): Promise<NewApiKey> {
  const data = parseInput(newApiKeySchema, input);
  const key = `${keyPrefix}${randomBytes(32).toString('base64url')}`;
  const id = randomUUID();
  const now = clock.now();
  const expiresAt = data.expiresInDays === undefined ? null : now + data.expiresInDays * oneDay;
  await db.transaction().execute(async (trx) => {
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
      expires_at: expiresAt,
    });
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'api_key.created',
      targetType: 'api_key',
      targetId: id,
      details: { name: data.name, role: data.role, expiresAt },
      clientIp: actor.clientIp,
    });
  });
  return { id, key, role: data.role, expiresAt };
}

/** The live key for a bearer value, or undefined: unknown, revoked, or expired at `clock.now()`. */
export async function authenticateApiKey(db: Kysely<Database>, bearer: string, clock: Clock): Promise<ApiKeyRow | undefined> {
  if (!bearer.startsWith(keyPrefix) || bearer.length > 200) return undefined;
  const now = clock.now();
  const row = await getActiveApiKeyByHash(db, hashApiKey(bearer), now);
  if (row) await markApiKeyUsed(db, row.id, now);
  return row;
}

/** An API key as the console lists it: never the key or its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  /** The first characters of the key, to tell keys apart ("pcl_AbC123"). */
  prefix: string;
  role: ApiKeyRole;
  createdAt: number;
  createdBy: string | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
  expiresAt: number | null;
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
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
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
