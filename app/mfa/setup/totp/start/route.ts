import type { NextRequest } from 'next/server';
import { systemClock } from '../../../../../lib/clock';
import { safeReturnPath } from '../../../../../lib/auth/return-path';
import { newPendingTotpSetup } from '../../../../../lib/auth/pending-setup';
import { readPendingTotp, writePendingTotp } from '../../../../../lib/factors/cookies';
import { newTotpSecret } from '../../../../../lib/factors/totp';
import { unavailableResponse } from '../../../../../lib/gate/unavailable';
import { guardSetup } from '../../../../../lib/factors/setup-guard';
import { pathOf, totpStartPath } from '../../../../../lib/factors/setup-flow';
import { log } from '../../../../../lib/log';

export const dynamic = 'force-dynamic';

const factorIdPattern = /^[A-Za-z0-9-]{1,64}$/;

function seeOther(location: string): Response {
  return new Response(null, { status: 303, headers: { location, 'cache-control': 'no-store' } });
}

/**
 * Starts (or resumes) a TOTP setup: a new secret from the CSPRNG in a sealed, short-lived
 * cookie, never in the database until a code proves it (R-E6). Pages cannot set cookies,
 * so the setup page sends people here first. Resuming keeps the secret a user may have
 * scanned already; `replace=<factor id>` marks the device the new one will replace.
 */
export async function GET(request: NextRequest): Promise<Response> {
  const params = request.nextUrl.searchParams;
  const returnTo = safeReturnPath(params.get('returnTo'));
  const replaceParam = params.get('replace');
  const replace = replaceParam && factorIdPattern.test(replaceParam) ? replaceParam : null;
  const notice: Record<string, string> = params.get('notice') === 'expired' ? { notice: 'expired' } : {};
  const here = totpStartPath(returnTo, replace ? { replace } : {});
  try {
    const guard = await guardSetup('totp', returnTo, here);
    if (!guard.ok) return seeOther(guard.redirectTo);
    if (replace !== null && !guard.factorIds.has(replace)) return seeOther('/portal/security?error=not_found');
    const existing = await readPendingTotp(guard.session.userId);
    if (!existing || existing.replaces !== replace) {
      await writePendingTotp(newPendingTotpSetup(guard.session.userId, newTotpSecret(), replace, systemClock));
    }
    return seeOther(pathOf('totp_scan', returnTo, { started: '1', ...notice }));
  } catch (err) {
    log.error({ err }, 'TOTP setup could not start; failing closed');
    return unavailableResponse('signed_in');
  }
}
