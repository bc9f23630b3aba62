import { getDb } from '../../db';
import { sealDuoClientSecret } from '../factors/duo';
import { systemClock } from '../clock';
import { createApiHandlers, type ApiHandlers, type RouteKey } from './handler';
import { routes } from './routes';

/**
 * The app's side of the seam: /api/v1 route files export `apiRoute('GET /users')` and so
 * on; the handlers use the process database and the system clock.
 */

let handlers: ApiHandlers | undefined;

function appHandlers(): ApiHandlers {
  handlers ??= createApiHandlers({
    db: async () => (await getDb()).kysely,
    clock: systemClock,
    // The Duo module opens the secret with the same context (lib/factors/duo.ts).
    sealDuoSecret: (plain) => sealDuoClientSecret(plain),
  });
  return handlers;
}

type NextRouteHandler = ((
  request: Request,
  context: { params: Promise<Record<string, string | string[] | undefined>> },
) => Promise<Response>) & {
  /** Which route of the table this export serves; the OpenAPI test reads it. */
  readonly routeKey: RouteKey;
};

export function apiRoute(key: RouteKey): NextRouteHandler {
  if (!Object.hasOwn(routes, key)) throw new Error(`No API route ${key}`);
  const handler = async (request: Request, context: { params: Promise<Record<string, string | string[] | undefined>> }) => {
    const raw = (await context?.params) ?? {};
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) if (typeof value === 'string') params[name] = value;
    return appHandlers()[key](request, params);
  };
  return Object.assign(handler, { routeKey: key });
}
