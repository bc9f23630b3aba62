import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Client, constants as duoConstants } from '@duosecurity/duo_universal';
import { isDuoException } from '../errors/brand';
import type { Database } from '../../db';
import { loadDuoConfig } from '../../db/queries/settings';
import { spendNonce } from '../../db/queries/webauthn';
import type { Clock } from '../clock';
import { openSecret, sealSecret, type Keyring } from '../crypto/secret-box';
import { elevateSession, type SessionContext } from '../auth/sessions';
import { auditFactorAction, factorActorOf, type FactorActor } from './audit';
import { duoStateTtlMs, nonceHash, sameBinding, sessionBinding, type PendingDuo } from './ceremony';
import { countDuoCall, countedVerification } from '../metrics/record';

/**
 * Duo Universal Prompt as a second factor, through the official client
 * (@duosecurity/duo_universal), which pins Duo's certificate authorities.
 *
 * - Duo enrolls its own users: it is never a Set Up step (R-E5), only offered at verify.
 * - Start: health check first, then a random `state` (256 bits) bound to this session in a
 *   sealed cookie, then the redirect to Duo. The username sent is the session's.
 * - Callback: the state must be this session's, unexpired, equal (constant time) and not
 *   spent before (spent_nonces, any instance). The code is exchanged for Duo's signed
 *   id_token with the SESSION's username, never one from the request; the token's
 *   preferred_username must be that user and its auth_result 'allow'.
 * - Fail closed: Duo unreachable, slow or erroring means no second factor; the user sees
 *   "Duo is unavailable" with their other factors, and the audit log has an entry.
 */

/** Associated data of the sealed client secret (lib/crypto/secret-box.ts). */
export const duoSecretContext = 'mfa_settings:duo_client_secret';

/**
 * Seals a Duo client secret for storage; pass it as saveMfaSettings()'s `sealSecret`.
 * @example await saveMfaSettings(db, input, actor, clock, { sealSecret: sealDuoClientSecret })
 */
export function sealDuoClientSecret(plain: string, ring?: Keyring): string {
  return sealSecret(plain, duoSecretContext, ring);
}

/** How long a call to Duo may take before we give up and fail closed. */
export const duoTimeoutMs = 8_000;
const maxCodeLength = 512;

export interface DuoConfig {
  clientId: string;
  clientSecret: string;
  apiHost: string;
  redirectUrl: string;
}

/** The calls Portcullis makes; the official Client implements them. */
export interface DuoClient {
  healthCheck(): Promise<unknown>;
  createAuthUrl(username: string, state: string): Promise<string>;
  exchangeAuthorizationCodeFor2FAResult(code: string, username: string, nonce?: string | null): Promise<unknown>;
}

export type DuoClientFactory = (config: DuoConfig) => DuoClient;

/** Production: the official client, with its pinned certificate authorities. */
export const officialDuoClient: DuoClientFactory = (config) =>
  new Client({ clientId: config.clientId, clientSecret: config.clientSecret, apiHost: config.apiHost, redirectUrl: config.redirectUrl });

export interface DuoOptions {
  /**
   * Builds the client. Only tests pass one (the official client with a transport that
   * trusts a fake's certificate); nothing in the app's configuration reaches it.
   * @default officialDuoClient
   */
  clientFactory?: DuoClientFactory;
  /** @default duoTimeoutMs */
  timeoutMs?: number;
}

/**
 * Duo's settings with the client secret opened, or null when Duo is off or incomplete.
 * Throws (SecretBoxError) when the stored secret cannot be opened: that is an outage.
 */
export async function loadDuoClientConfig(db: Kysely<Database>): Promise<DuoConfig | null> {
  const row = await loadDuoConfig(db);
  if (!row.enabled || !row.clientId || !row.clientSecretSealed || !row.apiHost || !row.redirectUri) return null;
  return {
    clientId: row.clientId,
    clientSecret: openSecret(row.clientSecretSealed, duoSecretContext),
    apiHost: row.apiHost,
    redirectUrl: row.redirectUri,
  };
}

class DeadlineExceeded extends Error {}

/** The promise's result, or a DeadlineExceeded after `ms`. The late answer is dropped. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => undefined); // a late failure must not become an unhandled rejection
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineExceeded(`no answer from Duo within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A short, secret-free reason for the audit trail. */
export function duoErrorDetail(err: unknown): string {
  if (err instanceof DeadlineExceeded) return 'timeout';
  const inner = isDuoException(err) ? err.inner : err;
  const e = inner as { code?: unknown; response?: { status?: unknown; data?: { error?: unknown } } } | undefined;
  if (e?.response && typeof e.response.status === 'number') {
    const error = typeof e.response.data?.error === 'string' ? `:${e.response.data.error.slice(0, 40)}` : '';
    return `http_${e.response.status}${error}`;
  }
  if (typeof e?.code === 'string') return e.code.toLowerCase().slice(0, 40); // econnrefused, self_signed_cert_in_chain, …
  if (isDuoException(err)) {
    if (err.message === duoConstants.JWT_DECODE_ERROR) return 'bad_token';
    if (err.message === duoConstants.MALFORMED_RESPONSE) return 'malformed_response';
    if (err.message === duoConstants.PARSING_CONFIG_ERROR || err.message === duoConstants.INVALID_CLIENT_ID_ERROR || err.message === duoConstants.INVALID_CLIENT_SECRET_ERROR) {
      return 'bad_configuration';
    }
    return 'duo_error';
  }
  return 'error';
}

async function auditUnavailable(db: Kysely<Database>, actor: FactorActor, clock: Clock, stage: string, detail: string): Promise<void> {
  await auditFactorAction(db, actor, clock.now(), 'mfa.duo_unavailable', { method: 'duo', stage, reason: detail });
}

export type DuoStartResult =
  | { ok: true; url: string; pending: PendingDuo }
  | { ok: false; reason: 'not_enabled' | 'unavailable'; detail?: string };

/**
 * Prepares the redirect to Duo: health check, a new state bound to this session, the
 * signed authorization URL for the session's username.
 */
export async function startDuo(
  db: Kysely<Database>,
  session: SessionContext,
  target: { returnTo: string; fresh: boolean; remember?: boolean },
  client: { ip: string | null },
  clock: Clock,
  options: DuoOptions = {},
): Promise<DuoStartResult> {
  const actor = factorActorOf(session, client);
  const timeoutMs = options.timeoutMs ?? duoTimeoutMs;
  let duo: DuoClient;
  try {
    const config = await loadDuoClientConfig(db);
    if (!config) return { ok: false, reason: 'not_enabled' };
    duo = (options.clientFactory ?? officialDuoClient)(config);
  } catch (err) {
    const detail = duoErrorDetail(err) === 'error' ? 'bad_configuration' : duoErrorDetail(err);
    countDuoCall('configuration', 'error');
    await auditUnavailable(db, actor, clock, 'configuration', detail);
    return { ok: false, reason: 'unavailable', detail };
  }
  try {
    await withDeadline(duo.healthCheck(), timeoutMs);
  } catch (err) {
    const detail = duoErrorDetail(err);
    countDuoCall('health_check', 'error');
    await auditUnavailable(db, actor, clock, 'health_check', detail);
    return { ok: false, reason: 'unavailable', detail };
  }
  countDuoCall('health_check', 'ok');
  const state = randomBytes(32).toString('base64url');
  let url: string;
  try {
    url = await duo.createAuthUrl(session.username, state);
  } catch (err) {
    const detail = duoErrorDetail(err);
    await auditUnavailable(db, actor, clock, 'authorize', detail);
    return { ok: false, reason: 'unavailable', detail };
  }
  const pending: PendingDuo = {
    kind: 'duo',
    state,
    binding: sessionBinding(session.sessionId),
    userId: session.userId,
    returnTo: target.returnTo,
    fresh: target.fresh,
    remember: target.remember === true,
    expiresAt: clock.now() + duoStateTtlMs,
  };
  return { ok: true, url, pending };
}

export type DuoCallbackResult =
  | { ok: true; token: string }
  | { ok: false; reason: 'refused' | 'unavailable' | 'session_gone'; detail: string };

export const duoMessages = {
  refused: 'Duo did not confirm it’s you. Try again, or use another method.',
} as const;

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

interface DuoIdToken {
  preferred_username?: unknown;
  auth_result?: { result?: unknown; status?: unknown } | null;
}

/**
 * Completes the Duo round trip from the callback's query (`state`, `duo_code` or `code`,
 * or Duo's `error`). `pending` is the sealed cookie's content, null when absent or forged.
 */
export const completeDuo = countedVerification('duo', checkDuoCallback);

async function checkDuoCallback(
  db: Kysely<Database>,
  session: SessionContext,
  pending: PendingDuo | null,
  query: { state: unknown; code: unknown; error?: unknown },
  client: { ip: string | null },
  clock: Clock,
  options: DuoOptions = {},
): Promise<DuoCallbackResult> {
  const actor = factorActorOf(session, client);
  const refuse = async (detail: string): Promise<DuoCallbackResult> => {
    await auditFactorAction(db, actor, clock.now(), 'mfa.verify_failed', { method: 'duo', reason: detail });
    return { ok: false, reason: 'refused', detail };
  };
  const unavailable = async (stage: string, detail: string): Promise<DuoCallbackResult> => {
    await auditUnavailable(db, actor, clock, stage, detail);
    return { ok: false, reason: 'unavailable', detail };
  };

  if (!pending) return refuse('no_state');
  if (pending.userId !== session.userId || !sameBinding(pending.binding, session.sessionId)) return refuse('foreign_state');
  if (pending.expiresAt <= clock.now()) return refuse('state_expired');
  if (typeof query.state !== 'string' || !sameText(query.state, pending.state)) return refuse('state_mismatch');
  const spent = await spendNonce(
    db,
    { hash: nonceHash('duo-state', pending.state), purpose: 'duo-state', userId: session.userId, expiresAt: pending.expiresAt },
    clock.now(),
  );
  if (!spent) return refuse('state_replayed');
  if (query.error !== undefined && query.error !== null) {
    return refuse(`duo_error:${typeof query.error === 'string' ? query.error.slice(0, 40) : 'unknown'}`);
  }
  if (typeof query.code !== 'string' || query.code.length === 0 || query.code.length > maxCodeLength) return refuse('missing_code');

  let duo: DuoClient;
  try {
    const config = await loadDuoClientConfig(db);
    if (!config) return refuse('not_enabled');
    duo = (options.clientFactory ?? officialDuoClient)(config);
  } catch (err) {
    countDuoCall('configuration', 'error');
    return unavailable('configuration', duoErrorDetail(err) === 'error' ? 'bad_configuration' : duoErrorDetail(err));
  }

  let token: DuoIdToken;
  try {
    // NOTE: the username is the session's; the client checks the token's preferred_username against it.
    token = (await withDeadline(duo.exchangeAuthorizationCodeFor2FAResult(query.code, session.username), options.timeoutMs ?? duoTimeoutMs)) as DuoIdToken;
  } catch (err) {
    // Duo answered, with a token for someone else or the wrong nonce: it is up.
    const answered = (reason: string) => (countDuoCall('token', 'refused'), refuse(reason));
    if (isDuoException(err) && err.message === duoConstants.USERNAME_ERROR) return answered('wrong_user');
    if (isDuoException(err) && err.message === duoConstants.NONCE_ERROR) return answered('wrong_nonce');
    const detail = duoErrorDetail(err);
    // Duo saying no to the code itself (used, expired, someone else's) is a refusal, not an outage.
    if (/^http_4\d\d:invalid_grant/.test(detail)) return answered('code_rejected');
    countDuoCall('token', 'error');
    return unavailable('token', detail);
  }
  countDuoCall('token', 'ok');
  if (!token || token.preferred_username !== session.username) return refuse('wrong_user');
  const result = token.auth_result?.result;
  if (result !== 'allow') return refuse(`result_${typeof result === 'string' ? result.slice(0, 20) : 'missing'}`);

  const newToken = await elevateSession(db, session, 'duo', clock);
  if (!newToken) return { ok: false, reason: 'session_gone', detail: 'session_gone' };
  await auditFactorAction(db, actor, clock.now(), 'mfa.verify_succeeded', { method: 'duo' });
  return { ok: true, token: newToken };
}
