import type { SessionContext } from '../auth/sessions';
import { systemClock } from '../clock';
import { destinationFor } from '../gate/access';
import type { RequestFacts } from '../gate/decision-input';
import { mfaAccess } from '../gate/mfa-page-access';
import type { Method, MfaSettings } from '../policy';
import { recoveryOverviewOf } from './overview';
import { justRecovered } from './recovery-path';
import type { SetupContext } from './setup-flow';

export type RecoveredGuard =
  | {
      ok: true;
      session: SessionContext;
      client: RequestFacts;
      codes: { total: number; unused: number };
      settings: MfaSettings;
      /** The devices the page offers: an authenticator app when TOTP is on, a security key when WebAuthn is. */
      context: SetupContext;
    }
  | { ok: false; reason: 'signed_out' | 'elsewhere' | 'not_recovered'; redirectTo: string };

/**
 * The one access check of the recovered page and its action (R-D9): signed in, allowed
 * where they were going (the gate's decision for `returnTo`; anything else goes where the
 * gate sends it), and the session's latest second factor is a recovery code passed in the
 * last five minutes. Never redirects itself.
 */
export async function guardRecovered(returnTo: string): Promise<RecoveredGuard> {
  const access = await mfaAccess(returnTo);
  if (!access) return { ok: false, reason: 'signed_out', redirectTo: `/login?returnTo=${encodeURIComponent(returnTo)}` };
  const { session, decision, client } = access;
  if (decision.kind !== 'allow') return { ok: false, reason: 'elsewhere', redirectTo: destinationFor(decision, returnTo) ?? returnTo };
  if (!justRecovered(session.amr, systemClock.now())) return { ok: false, reason: 'not_recovered', redirectTo: returnTo };
  const { codes, settings } = await recoveryOverviewOf(session.userId);
  const methods: Method[] = [];
  if (settings.totp) methods.push('totp');
  if (settings.webauthn) methods.push('webauthn');
  return { ok: true, session, client, codes, settings, context: { forced: false, methods } };
}
