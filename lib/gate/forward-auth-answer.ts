/**
 * Turns a decision into the answer a proxy expects. Pure.
 *
 * - `forward-auth` (Traefik ForwardAuth, Caddy forward_auth): 200 to let the request
 *   through; otherwise a redirect the proxy hands to the browser as is: 302 when the
 *   original method was GET or HEAD, 303 for anything else (so a browser follows a
 *   refused POST with a GET of the sign-in page, never re-posting to the portal).
 * - `auth-request` (nginx auth_request, which only understands 2xx, 401 and 403): 401 when
 *   the user can still get in (sign in, verify, set up a factor), 403 when not (denied,
 *   locked); `Location` carries the same portal URL, for
 *   `error_page 401 403 =302 $portcullis_location`.
 *
 * Every answer is `Cache-Control: no-store`: a proxy must never replay one user's answer.
 */
import type { Decision } from '../policy';
import { destinationFor } from './access';

export type ProxyFlavour = 'forward-auth' | 'auth-request';

/**
 * An answer as plain data: the route turns it into a web Response (toResponse), the entry
 * server writes it straight to node's response (scripts/forward-auth-route.mjs).
 */
export interface ProxyAnswer {
  status: number;
  /** Header values are byte strings (remote-headers.ts). */
  headers: Record<string, string>;
  body: string;
}

const noStore = { 'Cache-Control': 'no-store' } as const;
const plainText = { ...noStore, 'Content-Type': 'text/plain; charset=utf-8' } as const;

/** A request the endpoint cannot decide on (missing or malformed headers): never an allow. */
export function badRequestAnswer(problem: string): ProxyAnswer {
  return { status: 400, headers: plainText, body: problem };
}

/** The data layer could not answer (R-D10). */
export function unavailableAnswer(): ProxyAnswer {
  return { status: 503, headers: plainText, body: 'Temporarily unavailable.' };
}

/** 200 with the Remote-* headers (remoteHeadersFor). */
export function allowAnswer(remoteHeaders: Record<string, string>): ProxyAnswer {
  return { status: 200, headers: { ...noStore, ...remoteHeaders }, body: '' };
}

export function toResponse(answer: ProxyAnswer): Response {
  return new Response(answer.body === '' ? null : answer.body, { status: answer.status, headers: answer.headers });
}

/**
 * The answer for anything but allow.
 * @param origin the portal's origin (PORTCULLIS_ORIGIN); Location is always on it
 * @param returnTo the original absolute URL (on a declared host: it resolved to a resource)
 * @example refusalAnswer('forward-auth', { kind: 'login', rule: 'R-D1' }, 'GET', 'https://mfa.example.com', 'https://app.example.com/x')
 *   // 302, Location: https://mfa.example.com/login?returnTo=https%3A%2F%2Fapp.example.com%2Fx
 */
export function refusalAnswer(flavour: ProxyFlavour, decision: { kind: Exclude<Decision['kind'], 'allow'> }, method: string, origin: string, returnTo: string): ProxyAnswer {
  const location = `${origin}${destinationFor(decision, returnTo)}`;
  const status =
    flavour === 'auth-request'
      ? decision.kind === 'deny' || decision.kind === 'locked'
        ? 403
        : 401
      : method === 'GET' || method === 'HEAD'
        ? 302
        : 303;
  return { status, headers: { ...noStore, Location: location }, body: '' };
}
