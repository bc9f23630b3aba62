import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { ApiKeyRow } from '../../db/queries/api-keys';
import { authenticateApiKey } from '../admin/api-keys';
import type { Actor } from '../admin/actor';
import { can, type Permission } from '../admin/permissions';
import { clientIpFromHeaders } from '../auth/client-ip';
import type { Clock } from '../clock';
import { HttpProblem } from './problem';

/**
 * Bearer API keys only. Cookies are never read: a browser session, even an admin's, is not
 * a credential here, so a cross-site request carrying cookies gets nowhere (no CSRF surface).
 */

const realm = 'Bearer realm="portcullis-api"';
const maxAuthorizationLength = 300;
/** RFC 6750 b64token. */
const bearerPattern = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export type ApiRole = ApiKeyRow['role'];

export function bearerToken(request: Request): string | null {
  const header = request.headers.get('authorization');
  if (header === null || header.length > maxAuthorizationLength) return null;
  return bearerPattern.exec(header)?.[1] ?? null;
}

/** @throws HttpProblem 401 without a live key. */
export async function authenticateRequest(request: Request, db: Kysely<Database>, clock: Clock): Promise<ApiKeyRow> {
  const token = bearerToken(request);
  if (token === null) {
    throw new HttpProblem(401, 'unauthorized', 'Send an API key: Authorization: Bearer <key>.', {}, { 'www-authenticate': realm });
  }
  const key = await authenticateApiKey(db, token, clock);
  if (!key) {
    throw new HttpProblem(401, 'unauthorized', 'The API key is unknown, revoked or expired.', {}, {
      'www-authenticate': `${realm}, error="invalid_token"`,
    });
  }
  return key;
}

/**
 * The key's role must have the route's permission (lib/admin/permissions.ts, the table the
 * console asks too): read keys only read, helpdesk keys only their user tasks.
 * @throws HttpProblem 403 otherwise.
 */
export function requirePermission(key: ApiKeyRow, permission: Permission): void {
  if (can(key.role, permission)) return;
  throw new HttpProblem(
    403,
    'forbidden',
    key.role === 'read'
      ? `The API key "${key.name}" is read-only; changes need an admin key.`
      : `The API key "${key.name}" has the ${key.role} role, which may not do this (${permission}).`,
  );
}

export function actorOf(key: ApiKeyRow, request: Request): Actor {
  return { id: null, label: `api-key:${key.name}`, clientIp: clientIpFromHeaders(request.headers) };
}
