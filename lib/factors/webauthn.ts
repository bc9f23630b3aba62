import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import type { Database } from '../../db';
import { countFactors } from '../../db/queries/factors';
import { isUniqueViolation } from '../../db/queries/unique-violation';
import { replaceRecoveryCodes } from '../../db/queries/recovery-codes';
import {
  advanceWebauthnCounter,
  getWebauthnCredentialOfUser,
  insertWebauthnFactor,
  listWebauthnCredentials,
  spendNonce,
} from '../../db/queries/webauthn';
import { readEnv } from '../config/env';
import type { Clock } from '../clock';
import { elevateSession, type SessionContext } from '../auth/sessions';
import { countedVerification } from '../metrics/record';
import type { Decision, MfaSettings } from '../policy';
import { setupMethods } from '../policy';
import { enqueueFactorNotice } from '../mail/enqueue';
import { auditFactorAction, auditSetupAfterRecovery, factorActorOf } from './audit';
import { StepUpRefused, stepUpRefusalIn, stepUpRefusalOf } from './step-up';
import { nonceHash, sameBinding, sessionBinding, webauthnChallengeTtlMs, type Ceremony, type PendingWebauthn } from './ceremony';
import { newRecoveryCodeSet } from './recovery-codes';
import { setupAccess, type SetupAccess, type SetupAccessInput } from './setup-flow';
import { factorNameSchema } from './totp';
import { invalidateUserCounts } from '../admin/user-counts';

/**
 * WebAuthn security keys and passkeys as a second factor (@simplewebauthn/server).
 *
 * - The relying party comes from configuration: RP ID = the host of PORTCULLIS_ORIGIN,
 *   expected origin = PORTCULLIS_ORIGIN. Every verification checks both.
 * - Challenges: 32 random bytes, in a sealed cookie bound to the session (lib/factors/
 *   ceremony.ts), five minutes, spent in the database before anything is checked, so each
 *   works once whatever the outcome.
 * - User verification is preferred, not required: security keys without a PIN still work,
 *   user presence (a touch) is always required.
 * - The signature counter must move forward; 0 → 0 is fine (synced passkeys have no
 *   counter). The update is conditional, so two uses of one counter value cannot both win.
 * - A credential only ever matches among the signed-in user's own.
 */

export const rpName = 'Portcullis';
export const defaultWebauthnName = 'Security key';
const challengeBytes = 32;
/** Credential ids are at most 1023 bytes (WebAuthn L3): 1364 base64url characters. */
const maxCredentialIdLength = 1364;
const knownTransports: ReadonlySet<string> = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

export interface RelyingParty {
  /** The RP ID: the origin's host name, e.g. mfa.example.com. */
  id: string;
  /** The exact origin the browser reports, e.g. https://mfa.example.com. */
  origin: string;
  name: string;
}

/**
 * The relying party for an origin.
 * @example relyingPartyFor('https://mfa.example.com') // { id: 'mfa.example.com', origin: 'https://mfa.example.com', … }
 */
export function relyingPartyFor(origin: string): RelyingParty {
  const url = new URL(origin);
  return { id: url.hostname, origin: url.origin, name: rpName };
}

/** The relying party of this deployment, from PORTCULLIS_ORIGIN. */
export function relyingParty(): RelyingParty {
  return relyingPartyFor(readEnv().origin);
}

/**
 * The WebAuthn user handle: the user's id. It is a random UUID, so it says nothing about
 * the person, and it stays the same for all their credentials.
 */
export function userHandleOf(userId: string): string {
  return isoBase64URL.fromUTF8String(userId);
}

function asTransports(list: readonly string[] | undefined): string[] {
  return (list ?? []).filter((t) => knownTransports.has(t));
}

// ---------------------------------------------------------------------------------------
// Who may register a key

export type WebauthnSetupAccess = SetupAccess;

/** setupAccess() for WebAuthn, which the admin may have switched off (R-A1). */
export function webauthnSetupAccess(input: SetupAccessInput & { webauthnEnabled: boolean }): WebauthnSetupAccess {
  return input.webauthnEnabled ? setupAccess('webauthn', input) : { mode: 'elsewhere' };
}

/**
 * R-E3: with TOTP and WebAuthn both enabled, someone who set up WebAuthn but has no TOTP
 * device is brought (back) to the TOTP setup.
 */
export function totpStillNeeded(settings: MfaSettings, factorTypes: readonly string[]): boolean {
  const { methods } = setupMethods(settings);
  return methods.includes('totp') && methods.includes('webauthn') && !factorTypes.includes('totp');
}

// ---------------------------------------------------------------------------------------
// Pending ceremonies

function newPending(ceremony: Ceremony, challenge: string, session: SessionContext, clock: Clock): PendingWebauthn {
  return {
    kind: 'webauthn',
    ceremony,
    challenge,
    binding: sessionBinding(session.sessionId),
    userId: session.userId,
    expiresAt: clock.now() + webauthnChallengeTtlMs,
  };
}

type PendingProblem = 'expired' | 'replayed';

/**
 * The checks every ceremony's answer goes through first: a pending ceremony of this kind,
 * this session's and this user's, unexpired, and its challenge not spent before. The
 * challenge is spent here, so it never works twice, whatever happens next.
 */
async function spendPending(
  db: Kysely<Database>,
  pending: PendingWebauthn | null,
  ceremony: Ceremony,
  session: SessionContext,
  now: number,
): Promise<{ ok: true; pending: PendingWebauthn } | { ok: false; reason: PendingProblem; detail: string }> {
  if (!pending) return { ok: false, reason: 'expired', detail: 'no_challenge' };
  if (pending.ceremony !== ceremony) return { ok: false, reason: 'expired', detail: 'wrong_ceremony' };
  if (pending.userId !== session.userId || !sameBinding(pending.binding, session.sessionId)) {
    return { ok: false, reason: 'expired', detail: 'foreign_challenge' };
  }
  if (pending.expiresAt <= now) return { ok: false, reason: 'expired', detail: 'challenge_expired' };
  const spent = await spendNonce(
    db,
    { hash: nonceHash(`webauthn-${ceremony}`, pending.challenge), purpose: `webauthn-${ceremony}`, userId: session.userId, expiresAt: pending.expiresAt },
    now,
  );
  if (!spent) return { ok: false, reason: 'replayed', detail: 'challenge_replayed' };
  return { ok: true, pending };
}

/** A short reason for the audit trail from a verification error (never the error text itself). */
export function failureDetail(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  if (/top origin/i.test(message)) return 'cross_origin';
  if (/origin/i.test(message)) return 'wrong_origin';
  if (/RP ID/i.test(message)) return 'wrong_rp_id';
  if (/challenge/i.test(message)) return 'wrong_challenge';
  if (/not present/i.test(message)) return 'user_not_present';
  if (/counter/i.test(message)) return 'counter_regression';
  if (/response type/i.test(message)) return 'wrong_type';
  if (/signature/i.test(message)) return 'bad_signature';
  return 'malformed';
}

const base64url = z.string().min(1).max(65_536).regex(/^[A-Za-z0-9_-]+$/, 'Not base64url.');
const credentialId = base64url.max(maxCredentialIdLength);

const registrationResponseSchema = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url,
    attestationObject: base64url,
    authenticatorData: base64url.optional(),
    transports: z.array(z.string().max(32)).max(16).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url.optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).optional(),
});

const authenticationResponseSchema = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url,
    authenticatorData: base64url,
    signature: base64url,
    userHandle: base64url.optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).optional(),
});

const registrationInputSchema = z.object({
  response: registrationResponseSchema,
  name: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), factorNameSchema.optional()),
});

// ---------------------------------------------------------------------------------------
// Registration

/**
 * Options for navigator.credentials.create(), and the pending ceremony to seal into the
 * cookie. The user's existing credentials are excluded, so one authenticator cannot be
 * registered twice.
 */
export async function webauthnRegistrationOptions(
  db: Kysely<Database>,
  session: SessionContext,
  rp: RelyingParty,
  clock: Clock,
): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; pending: PendingWebauthn }> {
  const existing = await listWebauthnCredentials(db, session.userId);
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: session.username,
    userID: isoBase64URL.toBuffer(userHandleOf(session.userId)),
    userDisplayName: session.displayName ?? session.username,
    challenge: new Uint8Array(randomBytes(challengeBytes)),
    timeout: webauthnChallengeTtlMs,
    attestationType: 'none',
    excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: asTransports(c.transports) })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
  return { options, pending: newPending('registration', options.challenge, session, clock) };
}

export type WebauthnRegistrationResult =
  | {
      ok: true;
      /** The rotated session token: set it as the cookie. */
      token: string;
      factorId: string;
      /** Plain recovery codes to show once (first factor only), else null. */
      recoveryCodes: string[] | null;
    }
  | {
      ok: false;
      reason: 'invalid' | 'invalid_name' | 'expired' | 'replayed' | 'already_registered' | 'session_gone' | 'not_fresh';
      detail?: string;
      message?: string;
    };

/**
 * Stores a new credential once its attestation checks out: this session's unexpired,
 * unspent challenge, our origin and RP ID, user presence. The first factor comes with
 * recovery codes (as with TOTP). The session records the second factor and gets a new id.
 * Every outcome is audited.
 */
export async function confirmWebauthnRegistration(
  db: Kysely<Database>,
  session: SessionContext,
  pending: PendingWebauthn | null,
  input: unknown,
  client: { ip: string | null },
  rp: RelyingParty,
  clock: Clock,
): Promise<WebauthnRegistrationResult> {
  const actor = factorActorOf(session, client);
  const refuse = async (reason: Exclude<WebauthnRegistrationResult, { ok: true }>['reason'], detail: string, message?: string) => {
    await auditFactorAction(db, actor, clock.now(), 'mfa.factor_enroll_failed', { type: 'webauthn', reason, detail });
    return { ok: false as const, reason, detail, ...(message ? { message } : {}) };
  };

  const spent = await spendPending(db, pending, 'registration', session, clock.now());
  if (!spent.ok) return refuse(spent.reason, spent.detail);
  const parsed = registrationInputSchema.safeParse(input);
  if (!parsed.success) {
    const nameIssue = parsed.error.issues.find((i) => i.path[0] === 'name');
    return nameIssue ? refuse('invalid_name', 'invalid_name', nameIssue.message) : refuse('invalid', 'malformed');
  }

  let info: Extract<Awaited<ReturnType<typeof verifyRegistrationResponse>>, { verified: true }>['registrationInfo'];
  try {
    const verification = await verifyRegistrationResponse({
      response: parsed.data.response as RegistrationResponseJSON,
      expectedChallenge: spent.pending.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      expectedType: 'webauthn.create',
      requireUserPresence: true,
      requireUserVerification: false,
    });
    if (!verification.verified) return refuse('invalid', 'not_verified');
    info = verification.registrationInfo;
  } catch (err) {
    return refuse('invalid', failureDetail(err));
  }

  const factorId = randomUUID();
  const name = parsed.data.name ?? defaultWebauthnName;
  const now = clock.now();
  try {
    const result = await db.transaction().execute(async (trx): Promise<WebauthnRegistrationResult> => {
      const firstFactor = (await countFactors(trx, session.userId)) === 0;
      await insertWebauthnFactor(trx, {
        id: factorId,
        userId: session.userId,
        name,
        credentialId: info.credential.id,
        publicKey: isoBase64URL.fromBuffer(info.credential.publicKey),
        signCount: info.credential.counter,
        transports: asTransports(info.credential.transports ?? parsed.data.response.response.transports),
        now,
      });
      // R-E8: a key beside an existing factor needs a second factor from the last five minutes.
      const refused = await stepUpRefusalIn(trx, session, 'fresh', clock, !firstFactor);
      if (refused !== null) throw new StepUpRefused(refused);
      await auditFactorAction(trx, actor, now, 'mfa.factor_enrolled', {
        type: 'webauthn',
        factorId,
        name,
        userVerified: info.userVerified,
        backedUp: info.credentialBackedUp,
      });
      await auditSetupAfterRecovery(trx, actor, session, now, { type: 'webauthn', factorId });
      await enqueueFactorNotice(trx, { userId: session.userId, kind: 'factor_added', factorType: 'webauthn', factorName: name, factorId, at: now });
      let recoveryCodes: string[] | null = null;
      if (firstFactor) {
        const set = newRecoveryCodeSet(session.userId);
        await replaceRecoveryCodes(trx, session.userId, set.rows, now);
        await auditFactorAction(trx, actor, now, 'mfa.recovery_codes_created', { count: set.codes.length });
        recoveryCodes = set.codes;
      }
      const token = await elevateSession(trx, session, 'webauthn', clock);
      if (!token) throw new SessionGone();
      return { ok: true, token, factorId, recoveryCodes };
    });
    // The console's users-per-status counts read the factors (lib/admin/user-counts.ts).
    if (result.ok) invalidateUserCounts(db);
    return result;
  } catch (err) {
    if (err instanceof SessionGone) return { ok: false, reason: 'session_gone' };
    if (stepUpRefusalOf(err) !== null) return refuse('not_fresh', 'not_fresh');
    // The credential id is unique: this authenticator is registered already (here or to someone else).
    if (isUniqueViolation(err)) return refuse('already_registered', 'duplicate_credential');
    throw err;
  }
}

class SessionGone extends Error {}

// ---------------------------------------------------------------------------------------
// Authentication

/**
 * Options for navigator.credentials.get() with the user's own credentials, or null when
 * they have none.
 */
export async function webauthnAuthenticationOptions(
  db: Kysely<Database>,
  session: SessionContext,
  rp: RelyingParty,
  clock: Clock,
): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; pending: PendingWebauthn } | null> {
  const credentials = await listWebauthnCredentials(db, session.userId);
  if (credentials.length === 0) return null;
  const options = await generateAuthenticationOptions({
    rpID: rp.id,
    challenge: new Uint8Array(randomBytes(challengeBytes)),
    timeout: webauthnChallengeTtlMs,
    userVerification: 'preferred',
    allowCredentials: credentials.map((c) => ({ id: c.credentialId, transports: asTransports(c.transports) })),
  });
  return { options, pending: newPending('authentication', options.challenge, session, clock) };
}

export type WebauthnSignInResult =
  | { ok: true; token: string; factorId: string }
  | { ok: false; reason: 'invalid' | 'expired' | 'replayed' | 'unknown_credential' | 'session_gone'; detail?: string };

export const webauthnMessages = {
  invalid: 'That security key could not be verified. Try again, or use another method.',
  expired: 'That took too long. Try again.',
  replayed: 'That request was already used. Try again.',
  unknown_credential: 'That security key is not registered to your account.',
  already_registered: 'That security key is already registered.',
  invalid_name: 'Give the key a name of at most 64 characters.',
  session_gone: 'Your sign-in has ended. Sign in again.',
  not_fresh: 'Confirm it’s you with your second factor first.',
  cancelled: 'The security key prompt was closed or timed out. Try again.',
  unsupported: 'This browser cannot use security keys or passkeys.',
} as const;

/**
 * Sign-in with a security key or passkey, as a flat guard sequence: parse → spend this
 * session's challenge → find the credential among the user's own → verify origin, RP ID,
 * challenge, user presence, signature and counter → record the counter (once) → elevate the
 * session (new id). Every failure is audited.
 */
export const verifyWebauthnSignIn = countedVerification('webauthn', checkWebauthnSignIn);

async function checkWebauthnSignIn(
  db: Kysely<Database>,
  session: SessionContext,
  pending: PendingWebauthn | null,
  input: unknown,
  client: { ip: string | null },
  rp: RelyingParty,
  clock: Clock,
): Promise<WebauthnSignInResult> {
  const actor = factorActorOf(session, client);
  const refuse = async (
    reason: Exclude<WebauthnSignInResult, { ok: true }>['reason'],
    detail: string,
    factorId: string | null = null,
    extra: Record<string, unknown> = {},
  ) => {
    await auditFactorAction(db, actor, clock.now(), 'mfa.verify_failed', { method: 'webauthn', reason: detail, factorId, ...extra });
    return { ok: false as const, reason, detail };
  };

  const spent = await spendPending(db, pending, 'authentication', session, clock.now());
  if (!spent.ok) return refuse(spent.reason, spent.detail);
  const parsed = authenticationResponseSchema.safeParse(input);
  if (!parsed.success) return refuse('invalid', 'malformed');
  const response = parsed.data as AuthenticationResponseJSON;

  // NOTE: looked up among this user's credentials only; someone else's key is "unknown".
  const credential = await getWebauthnCredentialOfUser(db, session.userId, response.id);
  if (!credential) return refuse('unknown_credential', 'unknown_credential');
  if (response.response.userHandle !== undefined && response.response.userHandle !== userHandleOf(session.userId)) {
    return refuse('invalid', 'wrong_user_handle', credential.factorId);
  }

  let newCounter: number;
  try {
    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: spent.pending.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      expectedType: 'webauthn.get',
      // NOTE: the counter is checked below, after the signature, so that a refused counter
      // always means a genuine signature (a cloned authenticator), never a forgery.
      credential: { id: credential.credentialId, publicKey: isoBase64URL.toBuffer(credential.publicKey), counter: 0, transports: credential.transports },
      requireUserVerification: false,
    });
    if (!verification.verified) return refuse('invalid', 'bad_signature', credential.factorId);
    newCounter = verification.authenticationInfo.newCounter;
  } catch (err) {
    return refuse('invalid', failureDetail(err), credential.factorId);
  }
  // A counter that does not move forward means a cloned authenticator or a replay; 0 → 0 is a passkey without one.
  if ((newCounter > 0 || credential.signCount > 0) && newCounter <= credential.signCount) {
    return refuse('invalid', 'counter_regression', credential.factorId, { stored: credential.signCount, presented: newCounter });
  }

  const now = clock.now();
  if (!(await advanceWebauthnCounter(db, credential.factorId, newCounter, now))) {
    return refuse('invalid', 'counter_regression', credential.factorId);
  }
  const token = await elevateSession(db, session, 'webauthn', clock);
  if (!token) return { ok: false, reason: 'session_gone' };
  await auditFactorAction(db, actor, now, 'mfa.verify_succeeded', { method: 'webauthn', factorId: credential.factorId });
  return { ok: true, token, factorId: credential.factorId };
}
