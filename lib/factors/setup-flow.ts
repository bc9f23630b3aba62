import type { Decision, Method } from '../policy';

/**
 * The Set Up MFA steps (SPEC E) as a small state machine: named states, pure transitions,
 * and the page each state lives on. Pages and actions ask it where to go next instead of
 * deciding ad hoc; the table in test/unit/factors/setup-flow.test.ts is its specification.
 *
 *   choose_method ──choose(totp)────▶ totp_scan ──totp_verified(first)──▶ recovery_codes ──▶ done
 *        │   └─────choose(webauthn)─▶ webauthn_register ──(TOTP still needed, R-E3)──▶ totp_scan
 *        └──skip (soft only, R-D5)──────────────────────────────────────────────────────────▶ done
 *
 *   recovered ──choose(totp | webauthn)──▶ totp_scan | webauthn_register ──(another device)──▶ done
 *      │  └──codes_regenerated (the last code was spent)──▶ recovery_codes ──▶ recovered
 *      └──skip ("Continue to where you were going")──────────────────────────────────────────▶ done
 *
 * `recovered` is the lost-device page after a sign-in with a recovery code (/mfa/recovered):
 * the user already has a factor, so a new device is another one (no new codes) and
 * continuing is always allowed.
 */

export const setupStates = ['choose_method', 'recovered', 'webauthn_register', 'totp_scan', 'recovery_codes', 'done'] as const;
export type SetupState = (typeof setupStates)[number];

export type SetupEvent =
  | { type: 'choose'; method: Method }
  | { type: 'skip' }
  /** A valid code from the new device; `firstFactor` when the user had none before. */
  | { type: 'totp_verified'; firstFactor: boolean }
  | { type: 'totp_rejected' }
  /** The pending secret's cookie expired: start again with a new secret. */
  | { type: 'pending_expired' }
  | { type: 'webauthn_registered'; firstFactor: boolean; totpStillNeeded: boolean }
  | { type: 'codes_acknowledged' }
  /** A new set of recovery codes was made (from the recovered page): show it once. */
  | { type: 'codes_regenerated' };

export interface SetupContext {
  /** Forced enrollments (R-D4, R-C7) have no skip (R-E1). */
  forced: boolean;
  /** Methods this user may set up (R-E2..R-E4). */
  methods: readonly Method[];
}

/** The next state, or null when the event is not allowed in this state. */
export function nextState(state: SetupState, event: SetupEvent, context: SetupContext): SetupState | null {
  switch (state) {
    case 'choose_method':
      if (event.type === 'skip') return context.forced ? null : 'done';
      if (event.type !== 'choose' || !context.methods.includes(event.method)) return null;
      if (event.method === 'totp') return 'totp_scan';
      if (event.method === 'webauthn') return 'webauthn_register';
      return null; // R-E5: Duo is never a setup step.
    case 'recovered':
      if (event.type === 'skip') return 'done';
      if (event.type === 'codes_regenerated') return 'recovery_codes';
      if (event.type !== 'choose' || !context.methods.includes(event.method)) return null;
      if (event.method === 'totp') return 'totp_scan';
      if (event.method === 'webauthn') return 'webauthn_register';
      return null;
    case 'webauthn_register':
      if (event.type !== 'webauthn_registered') return null;
      if (event.totpStillNeeded) return 'totp_scan'; // R-E3
      return event.firstFactor ? 'recovery_codes' : 'done';
    case 'totp_scan':
      if (event.type === 'totp_rejected' || event.type === 'pending_expired') return 'totp_scan';
      if (event.type === 'totp_verified') return event.firstFactor ? 'recovery_codes' : 'done';
      return null;
    case 'recovery_codes':
      return event.type === 'codes_acknowledged' ? 'done' : null;
    case 'done':
      return null;
  }
}

/**
 * The page a state lives on; `done` is the return path itself (R-E7). `extra` adds query
 * parameters the page reads (a notice, an error, `forced=1`).
 */
export function pathOf(state: SetupState, returnTo: string, extra: Record<string, string> = {}): string {
  const query = (): string => new URLSearchParams({ returnTo, ...extra }).toString();
  switch (state) {
    case 'choose_method':
      return `/mfa/setup?${query()}`;
    case 'recovered':
      return `/mfa/recovered?${query()}`;
    case 'webauthn_register':
      return `/mfa/setup/webauthn?${query()}`;
    case 'totp_scan':
      return `/mfa/setup/totp?${query()}`;
    case 'recovery_codes':
      return `/mfa/recovery-codes?${query()}`;
    case 'done':
      return returnTo;
  }
}

/** What the portal says when a flow brings the person back to it. */
export type FlowNotice = 'mfa_set_up' | 'added' | 'codes_saved';

/** The portal pages that show a flow's notice (`?notice=`); anywhere else gets none. */
const pagesWithNotices = new Set(['/portal', '/portal/security']);

/**
 * `path` with a notice for the page it leads to, when that page shows notices (the portal
 * and its Security page); any other destination (another app, a further setup step) is
 * returned as it is. `factor` names the device a notice is about, by id: the page looks
 * its name up, so no text travels in the URL.
 */
export function withNotice(path: string, notice: FlowNotice, factor?: string): string {
  if (!path.startsWith('/') || path.startsWith('//')) return path;
  const url = new URL(path, 'http://portal.invalid');
  if (!pagesWithNotices.has(url.pathname)) return path;
  url.searchParams.set('notice', notice);
  if (factor !== undefined) url.searchParams.set('factor', factor);
  else url.searchParams.delete('factor');
  return `${url.pathname}${url.search}${url.hash}`;
}

/**
 * Where the TOTP step starts: the route that puts a new secret in a sealed cookie (pages
 * cannot set cookies), then shows `pathOf('totp_scan')`.
 */
export function totpStartPath(returnTo: string, extra: Record<string, string> = {}): string {
  return `/mfa/setup/totp/start?${new URLSearchParams({ returnTo, ...extra }).toString()}`;
}

/**
 * Where the user goes after a WebAuthn key was stored, in the Set Up flow (`enroll`) or
 * adding one from the portal (`add`). R-E3: the TOTP step comes next when it is still
 * needed, and the recovery codes of a first factor are shown on the way.
 */
export function afterWebauthnRegistered(
  mode: 'enroll' | 'add',
  event: { firstFactor: boolean; totpStillNeeded: boolean },
  context: SetupContext,
  returnTo: string,
): string {
  if (mode === 'add') return pathOf(event.firstFactor ? 'recovery_codes' : 'done', returnTo);
  const state = nextState('webauthn_register', { type: 'webauthn_registered', ...event }, context) ?? 'done';
  return state === 'totp_scan' && event.firstFactor ? pathOf('recovery_codes', pathOf('totp_scan', returnTo)) : pathOf(state, returnTo);
}

/** The step a "Continue" on the method choice leads to: the chosen method if offered, else the default. */
export function afterMethodChosen(chosen: Method | null, decision: Extract<Decision, { kind: 'enroll' }>, returnTo: string): string {
  const context: SetupContext = { forced: decision.forced, methods: decision.methods };
  const state =
    (chosen !== null ? nextState('choose_method', { type: 'choose', method: chosen }, context) : null) ??
    nextState('choose_method', { type: 'choose', method: decision.defaultMethod }, context) ??
    'choose_method';
  return pathOf(state, returnTo);
}

/** Where each offer of the recovered page leads: a new device of each offered method (null when not offered), new codes, or on. */
export interface RecoveredChoices {
  totp: string | null;
  webauthn: string | null;
  /** After new recovery codes are shown, back to the recovered page. */
  newCodes: string;
  continueTo: string;
}

export function recoveredChoices(context: SetupContext, returnTo: string): RecoveredChoices {
  const chosen = (method: Method): string | null => {
    const state = nextState('recovered', { type: 'choose', method }, context);
    return state === null ? null : pathOf(state, returnTo);
  };
  return {
    totp: chosen('totp'),
    webauthn: chosen('webauthn'),
    newCodes: pathOf(nextState('recovered', { type: 'codes_regenerated' }, context) ?? 'recovered', pathOf('recovered', returnTo)),
    continueTo: pathOf(nextState('recovered', { type: 'skip' }, context) ?? 'done', returnTo),
  };
}

/** How recently a second factor must have been passed for sensitive changes (removal, new devices, new codes). */
export const freshSecondFactorMs = 5 * 60_000;

export function isFreshSecondFactor(secondFactorAt: number | null, now: number): boolean {
  return secondFactorAt !== null && now - secondFactorAt >= 0 && now - secondFactorAt <= freshSecondFactorMs;
}

/** Who may open a method's setup page (TOTP, a WebAuthn key), and in which role. */
export type SetupAccess =
  /** Set Up MFA: the gate wants this user enrolled, with this method among the offered ones (R-D4, R-D5). */
  | { mode: 'enroll'; forced: boolean }
  /** Self-service: another device, or a first one for a user who skipped or is not required. */
  | { mode: 'add' }
  /** Has factors but no recent second factor: prove it first. */
  | { mode: 'verify_first' }
  /** Somewhere else entirely: follow the decision (sign in, verify, locked, denied). */
  | { mode: 'elsewhere' };

export type TotpSetupAccess = SetupAccess;

export interface SetupAccessInput {
  decision: Decision;
  hasFactors: boolean;
  secondFactorAt: number | null;
  now: number;
}

/**
 * Who may set up `method`, from the gate's decision for where they are going. Adding a
 * factor to an account that already has one needs a fresh second factor, or a stolen
 * password would be enough to plant an attacker's device or key.
 */
export function setupAccess(method: Method, input: SetupAccessInput): SetupAccess {
  const { decision } = input;
  if (decision.kind === 'enroll') {
    if (!decision.methods.includes(method)) return { mode: 'elsewhere' };
    if (input.hasFactors && !isFreshSecondFactor(input.secondFactorAt, input.now)) return { mode: 'verify_first' };
    return { mode: 'enroll', forced: decision.forced };
  }
  if (decision.kind !== 'allow') return { mode: 'elsewhere' };
  if (input.hasFactors && !isFreshSecondFactor(input.secondFactorAt, input.now)) return { mode: 'verify_first' };
  return { mode: 'add' };
}

/** Who may open the TOTP setup page. */
export function totpSetupAccess(input: SetupAccessInput): TotpSetupAccess {
  return setupAccess('totp', input);
}

/** What a setup page offers: the gate's enrollment (forced or not, its methods), or self-service of one method. */
export function setupContextFor(decision: Decision, method: Method): SetupContext {
  return decision.kind === 'enroll' ? { forced: decision.forced, methods: decision.methods } : { forced: false, methods: [method] };
}
