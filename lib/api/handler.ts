import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { fromZod } from '../admin/errors';
import { actorOf, authenticateRequest, requirePermission } from './auth';
import { defaultMaxBodyBytes, readJsonBody } from './body';
import { HttpProblem, problemResponse, responseForError } from './problem';
import { queryToInput } from './query';
import { maxIdLength } from './schemas';
import { routes, type ApiDeps, type RouteKey, type RouteSpec } from './routes';
import { log } from '../log';

export type { ApiDeps, RouteKey } from './routes';

/** One route's handler: the request and its path parameters (already awaited). */
export type ApiHandler = (request: Request, params?: Record<string, string>) => Promise<Response>;
export type ApiHandlers = Record<RouteKey, ApiHandler>;

/**
 * Every /api/v1 handler bound to a database and a clock. The app's route files use
 * `apiRoute()` (lib/api/next.ts: getDb() and the system clock); tests call
 * `createApiHandlers({ db: async () => testDb.kysely, clock, ... })` and pass plain
 * `Request`s, so contract tests exercise exactly what the server runs.
 *
 * Each request: database (503 if it cannot be opened) → API key (401) → permission (403) →
 * path ids → query (400) → body (413, 415, 400) → the service → JSON, or problem+json.
 */
export function createApiHandlers(deps: ApiDeps): ApiHandlers {
  const out = {} as ApiHandlers;
  for (const key of Object.keys(routes) as RouteKey[]) {
    out[key] = handlerFor(routes[key] as RouteSpec<any, any>, deps);
  }
  return out;
}

const anonymous = { id: null, label: 'anonymous', clientIp: null };

function handlerFor(spec: RouteSpec<any, any>, deps: ApiDeps): ApiHandler {
  return async (request, params = {}) => {
    try {
      let db: Kysely<Database> | null = null;
      const openDb = async () => {
        try {
          return (db ??= await deps.db());
        } catch (err) {
          log.error({ err }, 'api: database unavailable');
          throw new HttpProblem(503, 'unavailable', undefined, {}, { 'retry-after': '5' });
        }
      };
      let key = null;
      let actor = anonymous as ReturnType<typeof actorOf>;
      if (spec.permission !== 'public') {
        key = await authenticateRequest(request, await openDb(), deps.clock);
        requirePermission(key, spec.permission);
        actor = actorOf(key, request);
      }
      for (const value of Object.values(params)) {
        if (value.length === 0 || value.length > maxIdLength) throw new HttpProblem(404, 'not-found', 'No such resource.');
      }
      let query: unknown = undefined;
      if (spec.query) {
        query = queryToInput(new URL(request.url), spec.query);
        const checked = spec.query.safeParse(query);
        if (!checked.success) throw fromZod(checked.error);
      }
      let body: unknown = undefined;
      let raw: unknown = undefined;
      if (spec.body) {
        raw = await readJsonBody(request, spec.maxBodyBytes ?? defaultMaxBodyBytes);
        if (raw === undefined && spec.bodyOptional) raw = {};
        const checked = spec.body.safeParse(raw);
        if (!checked.success) throw fromZod(checked.error);
        body = checked.data;
      }
      // NOTE: public routes (the OpenAPI document) never touch the database.
      const handlerDb = spec.permission === 'public' ? (null as unknown as Kysely<Database>) : await openDb();
      return await spec.handle({ db: handlerDb, clock: deps.clock, deps, request, key, actor, params, body, raw, query });
    } catch (err) {
      return responseForError(err);
    }
  };
}

export { problemResponse };
