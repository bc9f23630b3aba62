import { after } from 'next/server';
import { getDb } from '../../../../db';
import { systemClock } from '../../../../lib/clock';
import { clientIpFromHeaders } from '../../../../lib/auth/client-ip';
import { afterRandomDelay, requestPasswordReset } from '../../../../lib/auth/password-reset-request';
import { readBodyUpTo } from '../../../../lib/http/bounded-body';
import { isSameOriginPost } from '../../../../lib/http/same-origin';
import { unavailableResponse } from '../../../../lib/gate/unavailable';
import { loggerFor } from '../../../../lib/log';

export const dynamic = 'force-dynamic';

const maxFormBytes = 4 * 1024;
const forgotPath = '/login/forgot';

function seeOther(location: string): Response {
  return new Response(null, { status: 303, headers: { location, 'cache-control': 'no-store' } });
}

async function identifierOf(request: Request): Promise<{ ok: true; identifier: string | null } | { ok: false }> {
  const type = (request.headers.get('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return { ok: true, identifier: null };
  const body = await readBodyUpTo(request, maxFormBytes).catch(() => null);
  if (!body) return { ok: false };
  const values = new URLSearchParams(body.toString('utf8')).getAll('identifier');
  return { ok: true, identifier: values.length === 1 ? values[0]! : null };
}

/**
 * "Forgot password?" posts here (a plain HTML form). Every well-formed request gets the same
 * 303 to the same page, with no cookie, after the same work: the lookup, the link and the
 * mail run after the response and a random delay (lib/auth/password-reset-request.ts says why).
 */
export async function POST(request: Request): Promise<Response> {
  if (!isSameOriginPost(request)) return new Response('Cross-origin form posts are not accepted.', { status: 403 });
  const form = await identifierOf(request);
  if (!form.ok) return new Response('Too large.', { status: 413 });
  const log = loggerFor(request.headers);
  try {
    const db = await getDb();
    const { result, followUp } = await requestPasswordReset(db.kysely, { identifier: form.identifier }, { ip: clientIpFromHeaders(request.headers) }, systemClock);
    if (!result.ok) return seeOther(`${forgotPath}?error=invalid`);
    after(() => afterRandomDelay(followUp).catch((err: unknown) => log.error({ err }, 'password reset request: sending the link failed')));
    return seeOther(`${forgotPath}?sent=1`);
  } catch (err) {
    log.error({ err }, 'password reset request failed; failing closed');
    return unavailableResponse();
  }
}
