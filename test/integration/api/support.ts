import { randomUUID } from 'node:crypto';
import type { Db, DialectName } from '../../../db';
import { createApiKey } from '../../../lib/admin/api-keys';
import { createUser } from '../../../lib/admin/users';
import { manualClock } from '../../../lib/clock';
import { createApiHandlers, type ApiHandlers, type RouteKey } from '../../../lib/api/handler';
import { routes, type OutboxLister } from '../../../lib/api/routes';
import { freshDb } from '../support/dialects';

/**
 * Contract-test harness: the real handlers (createApiHandlers) on a fresh database with a
 * manual clock, called with plain Requests, as the app's route files call them.
 */

export const start = Date.UTC(2026, 10, 2, 9, 0, 0);
export const origin = 'https://mfa.example.test';
export const seedActor = { id: null, label: 'seed', clientIp: null };

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  /** A raw body (sent as is); with `contentType` to test the plumbing. */
  rawBody?: BodyInit;
  contentType?: string | null;
  headers?: Record<string, string>;
}

export interface ApiWorld {
  db: Db;
  clock: ReturnType<typeof manualClock>;
  handlers: ApiHandlers;
  /** Keys: "ops-automation" (admin) and "dashboards" (read-only). */
  adminKey: string;
  readKey: string;
  call(method: string, path: string, options?: CallOptions): Promise<Response>;
  user(username: string, state?: 'active' | 'staged' | 'suspended', extra?: Record<string, unknown>): Promise<string>;
  addFactor(userId: string, type: 'totp' | 'webauthn' | 'duo'): Promise<void>;
  close(): Promise<void>;
}

/** Finds the route for a concrete path, as Next's router would: static segments before [id]. */
export function resolveRoute(method: string, path: string): { key: RouteKey; params: Record<string, string> } | null {
  const url = new URL(path, origin);
  const segments = url.pathname.replace(/^\/api\/v1/, '').split('/').filter(Boolean);
  const candidates = (Object.keys(routes) as RouteKey[])
    .filter((key) => key.startsWith(`${method} `))
    .map((key) => ({ key, parts: key.slice(method.length + 1).split('/').filter(Boolean) }))
    .filter(({ parts }) => parts.length === segments.length)
    // Static segments win over parameters, like Next's router.
    .sort((a, b) => a.parts.filter((p) => p.startsWith('{')).length - b.parts.filter((p) => p.startsWith('{')).length);
  for (const { key, parts } of candidates) {
    const params: Record<string, string> = {};
    if (parts.every((part, i) => (part.startsWith('{') ? ((params[part.slice(1, -1)] = decodeURIComponent(segments[i]!)), true) : part === segments[i]))) {
      return { key, params };
    }
  }
  return null;
}

export async function apiWorld(dialect: DialectName, options: { listOutbox?: OutboxLister } = {}): Promise<ApiWorld> {
  const db = await freshDb(dialect);
  const clock = manualClock(start);
  const handlers = createApiHandlers({
    db: async () => db.kysely,
    clock,
    sealDuoSecret: (plain) => `sealed:${plain.length}`,
    ...(options.listOutbox ? { listOutbox: options.listOutbox } : {}),
  });
  const adminKey = (await createApiKey(db.kysely, { name: 'ops-automation', role: 'admin' }, seedActor, clock)).key;
  const readKey = (await createApiKey(db.kysely, { name: 'dashboards', role: 'read' }, seedActor, clock)).key;
  return {
    db,
    clock,
    handlers,
    adminKey,
    readKey,
    async call(method, path, opts = {}) {
      const resolved = resolveRoute(method, path);
      if (!resolved) throw new Error(`no route for ${method} ${path}`);
      const headers = new Headers(opts.headers);
      const key = opts.key === undefined ? adminKey : opts.key;
      if (key !== null) headers.set('authorization', `Bearer ${key}`);
      let body: BodyInit | undefined;
      if (opts.rawBody !== undefined) body = opts.rawBody;
      else if (opts.body !== undefined) body = JSON.stringify(opts.body);
      const contentType = opts.contentType === undefined ? (body !== undefined ? 'application/json' : null) : opts.contentType;
      if (contentType !== null) headers.set('content-type', contentType);
      const request = new Request(new URL(`/api/v1${path}`, origin), { method, headers, ...(body !== undefined ? { body, duplex: 'half' } : {}) } as RequestInit);
      return handlers[resolved.key](request, resolved.params);
    },
    async user(username, state = 'active', extra = {}) {
      return (await createUser(db.kysely, { username, state, ...extra }, seedActor, clock)).id;
    },
    async addFactor(userId, type) {
      await db.kysely
        .insertInto('factors')
        .values({
          id: randomUUID(),
          user_id: userId,
          type,
          name: type === 'totp' ? 'Authenticator app' : type === 'webauthn' ? 'Security key' : 'Duo',
          created_at: clock.now(),
          last_used_at: null,
          secret_enc: type === 'totp' ? 'sealed-secret-never-shown' : null,
          last_used_step: null,
          credential_id: type === 'webauthn' ? randomUUID() : null,
          public_key: type === 'webauthn' ? 'public-key-never-shown' : null,
          sign_count: type === 'webauthn' ? 0 : null,
          transports: null,
        })
        .execute();
    },
    close: () => db.close(),
  };
}

/** Asserts an RFC 9457 problem and returns its body. */
export async function expectProblem(response: Response, status: number): Promise<Record<string, any>> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${text}`);
  if (!response.headers.get('content-type')?.startsWith('application/problem+json')) {
    throw new Error(`expected problem+json, got ${response.headers.get('content-type')}`);
  }
  const body = JSON.parse(text);
  if (typeof body.type !== 'string' || typeof body.title !== 'string' || body.status !== status) {
    throw new Error(`not a problem body: ${text}`);
  }
  return body;
}

export async function expectJson(response: Response, status: number): Promise<any> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

export const iso = (ms: number) => new Date(ms).toISOString();
