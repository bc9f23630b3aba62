/**
 * Types of the pure decision engine. Other modules (gate, admin, portal) code against
 * these names; keep them stable.
 */

export type Method = 'totp' | 'webauthn' | 'duo';
export type UserState = 'staged' | 'active' | 'suspended';
export type PolicyAction = 'allow' | 'require_mfa' | 'deny';
/**
 * Issue 18: what a require-MFA policy accepts as a second factor. `any`: every enabled
 * method (and a recovery code); `phishing_resistant`: WebAuthn only (origin-bound, so a
 * relayed code or a pushed prompt cannot satisfy it).
 */
export type AuthStrength = 'any' | 'phishing_resistant';

export interface MfaSettings {
  totp: boolean;
  webauthn: boolean;
  duo: boolean;
  /**
   * R-D11: a user who has a factor is challenged for it at sign-in even when no rule
   * requires MFA. The org default is on; only an explicit `false` turns it off.
   */
  challengeEnrolled?: boolean;
}

export interface MfaRequirement {
  required: boolean;
  enrollmentDays: number;
  periodStartsAt: number | null;
  periodEndsAt: number | null;
}

export type OsFamily = 'windows' | 'macos' | 'ios' | 'android' | 'linux' | 'chromeos' | 'other';
export type BrowserFamily = 'chrome' | 'edge' | 'firefox' | 'safari' | 'opera' | 'other';

/** R-C3. An absent or empty list means "no such condition". */
export interface PolicyConditions {
  /** CIDR strings, IPv4 or IPv6; a bare address is a /32 or /128. */
  ipIn?: string[];
  ipNotIn?: string[];
  osIn?: OsFamily[];
  browserIn?: BrowserFamily[];
}

/** A policy as stored. */
export interface PolicyRecord {
  id: string;
  name: string;
  description: string | null;
  enabled: boolean;
  scope: 'all' | 'groups';
  includeGroupIds: string[];
  excludeGroupIds: string[];
  conditions: PolicyConditions;
  /** Resource ids; 'portal' is the User Portal. */
  resources: string[];
  action: PolicyAction;
  /** Lower runs first among policies with the same action; absent sorts last. */
  priority?: number;
  /** Require-MFA only (ignored otherwise). Absent: 'any'. */
  strength?: AuthStrength;
  /** Require-MFA only: the last second factor must be at most this many minutes old. Absent/null: no limit. */
  reverifyMinutes?: number | null;
  /** Require-MFA only: "don't ask again on this device for N days" (1–90). Absent/null: not allowed. */
  rememberDays?: number | null;
  /** Require-MFA only: days of grace for people who newly enter the scope (0 … 365). Absent: 0. */
  graceDays?: number;
}

export type ParsedIp =
  | { v: 4; value: number }
  /** `mappedV4` is set for ::ffff:a.b.c.d so that IPv4 ranges still apply (Node reports dual-stack peers that way). */
  | { v: 6; value: bigint; mappedV4: number | null };

export type ParsedCidr =
  | { v: 4; network: number; mask: number; prefix: number; text: string }
  | { v: 6; network: bigint; mask: bigint; prefix: number; text: string };

export interface PolicyRef {
  readonly id: string;
  readonly name: string;
}

/** A policy ready for decide(): CIDRs parsed once, lists turned into Sets. */
export interface CompiledPolicy {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly action: PolicyAction;
  readonly priority: number;
  readonly allUsers: boolean;
  /** Kept as both: iterate the array against a user Set, probe the Set from a user array. */
  readonly includeGroups: ReadonlySet<string>;
  readonly includeGroupList: readonly string[];
  readonly excludeGroups: ReadonlySet<string>;
  readonly excludeGroupList: readonly string[];
  readonly resources: ReadonlySet<string>;
  readonly ipIn: readonly ParsedCidr[] | null;
  readonly ipNotIn: readonly ParsedCidr[] | null;
  readonly osIn: ReadonlySet<OsFamily> | null;
  readonly browserIn: ReadonlySet<BrowserFamily> | null;
  /** Issue 18, require-MFA policies only (an allow or deny policy carries 'any' and null). */
  readonly phishingResistant: boolean;
  /** Milliseconds, or null for no re-verification. */
  readonly reverifyMs: number | null;
  /** Issue 18 part 3: remembered devices count for this many days (require-MFA only), or null. */
  readonly rememberDays: number | null;
  /** Issue 18 part 6, require-MFA only (0 otherwise): grace for people who newly enter the scope (grace.ts). */
  readonly graceDays: number;
  /** Shared, frozen: decisions point at it instead of allocating a copy per request. */
  readonly ref: PolicyRef;
}

/** Authenticator assurance level: 1 a password only, 2 a second factor too. */
export type Aal = 1 | 2;

/** One method a session passed ('pwd', 'totp', 'webauthn', 'duo', 'recovery') and when (epoch ms). */
export interface AmrEntry {
  readonly method: string;
  readonly at: number;
}

export interface DecisionInput {
  now: number;
  /** 'portal' or an app resource id. */
  resource: string;
  /** The assurance level is derived from `amr` (aalOf), never passed beside it. */
  session: null | { amr: readonly AmrEntry[]; mfaSkipped: boolean };
  user: null | { id: string; state: UserState; groupIds: ReadonlySet<string> | string[] };
  requirement: MfaRequirement | null;
  /** Methods with at least one verified factor. */
  enrolledMethods: Method[];
  settings: MfaSettings;
  request: { ip: string; os: OsFamily; browser: BrowserFamily };
  /** From compilePolicies(). */
  policies: CompiledPolicy[];
  /**
   * Issue 18 part 3: the remembered device this request presented, only if it is this
   * user's, unexpired and not forgotten (lib/auth/remembered-devices.ts); absent or null
   * otherwise. Only its creation time matters: decide() compares it with the winning
   * policy's N days (rule R-D15).
   */
  rememberedDevice?: { createdAt: number } | null;
  /**
   * Issue 18 part 6 (R-D16): this user's grace windows, policy id → end (epoch ms), as
   * recorded when they newly entered a policy's scope. Absent or null: none.
   */
  graceWindows?: ReadonlyMap<string, number> | null;
}

/**
 * Issue 18: what the matching require-MFA policies asked of the second factor. Decisions
 * made under a require-MFA policy carry it; the verify and setup pages read `strength`.
 */
export interface StrengthAsked {
  strength?: AuthStrength;
  /** The smallest N among the matching require-MFA policies, when any asked for one. */
  reverifyMinutes?: number;
}

export type Decision =
  | { kind: 'login'; rule: string }
  | ({ kind: 'allow'; rule: string; policy?: { id: string; name: string } } & StrengthAsked)
  | ({
      kind: 'challenge';
      methods: Method[];
      rule: string;
      policy?: { id: string; name: string };
      /** Issue 18 part 3: the policy allows "don't ask again on this device for N days"; the verify pages offer the box. */
      rememberDays?: number;
    } & StrengthAsked)
  | ({
      kind: 'enroll';
      forced: boolean;
      methods: Method[];
      defaultMethod: Method;
      deadline: number | null;
      rule: string;
      policy?: { id: string; name: string };
    } & StrengthAsked)
  | { kind: 'locked'; reason: 'enrollment_expired'; expiredAt: number | null; rule: string }
  | { kind: 'deny'; rule: string; policy: { id: string; name: string } };

export type MfaStatusName = 'enrolled' | 'not_enrolled' | 'enrollment_period' | 'expired' | 'pre_enrollment';

export interface MfaStatus {
  status: MfaStatusName;
  startsAt: number | null;
  endsAt: number | null;
}
