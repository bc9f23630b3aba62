// Types of `portcullis/next` (remote/next.mjs), written by hand: an app that installs this
// repo from git or a path does not compile our TypeScript.
import type { NextRequest } from 'next/server';

/** Who Portcullis says the user is, from its Remote-* answer. */
export interface RemoteUser {
  username: string;
  /** '' when the user has none. */
  email: string;
  /** The display name, '' when none. */
  name: string;
  /** Group names. */
  groups: string[];
  /** The methods the session passed, e.g. ['pwd', 'totp']. */
  methods: string[];
}

export interface RemoteGateOptions {
  /**
   * The URL this server reaches Portcullis at.
   * @default process.env.PORTCULLIS_URL
   */
  portcullisUrl?: string;
  /**
   * Portcullis's browser-facing URL when it differs from portcullisUrl (an internal address);
   * refusals may send the browser to either origin, never elsewhere.
   * @default process.env.PORTCULLIS_PUBLIC_URL
   */
  publicUrl?: string;
  /**
   * This app's own public URL: when set, its scheme and host are what Portcullis decides on,
   * whatever Host header a client sends. Unset, the request's Host header is used.
   * @default process.env.PORTCULLIS_APP_URL
   */
  appUrl?: string;
  /**
   * How long an allowed answer is reused in this process (0: never). Refusals are never cached.
   * @default 5000
   */
  cacheMs?: number;
  /**
   * How many allowed answers the cache holds at most (the oldest go first).
   * @default 1000
   */
  maxEntries?: number;
  /**
   * How long to wait for Portcullis before answering 503.
   * @default 3000
   */
  timeoutMs?: number;
  /** The fetch to ask with (default: the global fetch). */
  fetch?: typeof fetch;
}

/**
 * The gate for a separate Next.js app: its middleware (`proxy.ts`). Allowed → continues with
 * Remote-User, Remote-Email, Remote-Name, Remote-Groups, Remote-Methods as request headers
 * (client-sent ones removed); refused → redirect to Portcullis's page; Portcullis unreachable
 * → 503, never allow.
 *
 * @example
 * // middleware.ts, with PORTCULLIS_URL=https://portal.example.com
 * import { createRemoteMfaGate } from 'portcullis/next';
 * export default createRemoteMfaGate();
 * export const config = { matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'], runtime: 'nodejs' };
 */
export function createRemoteMfaGate(options?: RemoteGateOptions): (request: NextRequest) => Promise<Response>;

/**
 * R-D9 for a page: the user when Portcullis allows `path`, otherwise redirects to Portcullis's
 * page; throws when Portcullis cannot answer.
 *
 * @param path this page's path (and query)
 * @example
 * const user = await requireRemoteUser('/reports');
 */
export function requireRemoteUser(path: string, options?: RemoteGateOptions): Promise<RemoteUser>;

export type RemoteRouteAccess = { user: RemoteUser; response?: undefined } | { response: Response; user?: undefined };

/**
 * R-D9 for a route handler: `{ user }`, or `{ response }` (401, 403 or 503 problem+json) to return.
 *
 * @example
 * const access = await remoteRouteAccess(request);
 * if (access.response) return access.response;
 */
export function remoteRouteAccess(request: Request, options?: RemoteGateOptions): Promise<RemoteRouteAccess>;

export type RemoteActionAccess =
  | { ok: true; user: RemoteUser }
  | {
      ok: false;
      /** `login`: sign-in needed; `refused`: any other refusal; `unavailable`: Portcullis cannot answer. */
      reason: 'login' | 'refused' | 'unavailable';
      /** Portcullis's page a browser should go to, or null when unavailable. */
      redirectTo: string | null;
    };

/**
 * R-D9 for a server action: checks a POST to `path` before any side effect; never redirects or throws.
 *
 * @example
 * const access = await remoteActionAccess('/reports');
 * if (!access.ok) return { error: 'Not allowed.' };
 */
export function remoteActionAccess(path: string, options?: RemoteGateOptions): Promise<RemoteActionAccess>;
