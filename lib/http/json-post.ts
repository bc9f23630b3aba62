import { readBodyUpTo } from './bounded-body';
import { isSameOriginPost } from './same-origin';
import { log } from '../log';

/** JSON plumbing of route handlers that script callers post to (the /mfa/webauthn/* ceremonies). */

const maxJsonBytes = 64 * 1024;

export function json(status: number, body: Record<string, unknown>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/**
 * The request's JSON object, or a Response refusing it: cross-site posts (CSRF), other
 * content types (a plain form cannot send JSON, so this is a second CSRF fence), bodies
 * over 64 KiB, and anything that is not a JSON object.
 */
export async function readJsonPost(request: Request): Promise<{ body: Record<string, unknown> } | { response: Response }> {
  if (!isSameOriginPost(request)) return { response: json(403, { message: 'Cross-origin requests are not accepted.' }) };
  if (!(request.headers.get('content-type') ?? '').toLowerCase().startsWith('application/json')) {
    return { response: json(415, { message: 'Expected JSON.' }) };
  }
  if (Number(request.headers.get('content-length') ?? 0) > maxJsonBytes) return { response: json(413, { message: 'Too large.' }) };
  try {
    const raw = await readBodyUpTo(request, maxJsonBytes);
    if (raw === null) return { response: json(413, { message: 'Too large.' }) };
    const body: unknown = JSON.parse(raw.toString('utf8'));
    if (!body || typeof body !== 'object' || Array.isArray(body)) return { response: json(400, { message: 'Expected a JSON object.' }) };
    return { body: body as Record<string, unknown> };
  } catch {
    return { response: json(400, { message: 'Expected JSON.' }) };
  }
}

export function failClosed(what: string, err: unknown): Response {
  log.error({ err }, `${what} failed; failing closed`);
  return json(503, { message: 'Sign-in is temporarily unavailable. Please try again in a few minutes.' });
}
