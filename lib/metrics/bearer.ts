import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Who may read /metrics: whoever sends `Authorization: Bearer <PORTCULLIS_METRICS_TOKEN>`.
 * Pure but for the hash.
 *
 * The comparison is constant-time over SHA-256 digests of both sides: equal lengths for
 * timingSafeEqual whatever was sent, and no early exit that would tell a guesser how many
 * leading characters were right, or how long the token is.
 */

export type MetricsAccess = 'disabled' | 'allowed' | 'unauthorized';

/** The configured token, or null: unset or empty turns /metrics off (404). lib/config checks its length at start. */
export function metricsTokenOf(env: Readonly<Record<string, string | undefined>>): string | null {
  const token = env.PORTCULLIS_METRICS_TOKEN;
  return token ? token : null;
}

/**
 * The token in an `Authorization: Bearer …` header (scheme case-insensitive, RFC 6750), or
 * null. Any visible ASCII is taken, not only RFC 6750's token characters: a token the
 * operator chose with a `!` in it must still work, not be refused forever.
 */
export function bearerTokenOf(authorization: string | null | undefined): string | null {
  if (!authorization || authorization.length > 1024) return null;
  const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization);
  return match ? match[1]! : null;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Whether `presented` is `expected`, in time that depends on neither. */
export function sameToken(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * @param authorization the request's Authorization header
 * @param token the configured token (metricsTokenOf), null when metrics are off
 */
export function metricsAccess(authorization: string | null | undefined, token: string | null): MetricsAccess {
  if (token === null) return 'disabled';
  const presented = bearerTokenOf(authorization);
  // NOTE: a missing or malformed header still costs one comparison, against a dummy.
  return sameToken(presented ?? '', token) && presented !== null ? 'allowed' : 'unauthorized';
}
