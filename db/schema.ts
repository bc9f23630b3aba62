import type { Generated } from 'kysely';

/**
 * Row shapes as stored. Portable across SQLite and PostgreSQL: times are integer
 * milliseconds since the epoch, booleans are 0/1 integers, lists are JSON text.
 */
export type UserState = 'staged' | 'active' | 'suspended';
/** helpdesk: a least-privilege console role (017, lib/admin/permissions.ts). */
export type UserRole = 'user' | 'helpdesk' | 'admin';

export interface UsersTable {
  id: string;
  username: string;
  username_lower: string;
  email: string | null;
  display_name: string | null;
  password_hash: string | null;
  state: UserState;
  role: UserRole;
  created_at: number;
  activated_at: number | null;
}

export interface GroupsTable {
  id: string;
  name: string;
  name_lower: string;
  created_at: number;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: string;
}

export interface SessionsTable {
  /** sha256(token) in hex: the token itself never reaches the database. */
  id: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  /**
   * Authentication methods passed and when, JSON: [{"method":"pwd","at":…},{"method":"totp","at":…}].
   * The assurance level and the last second factor's time are derived from it (lib/policy/assurance.ts).
   */
  amr: string;
  /** The user chose "Skip for now" in this session (R-D5); never carried to the next. */
  mfa_skipped: number;
  client_ip: string | null;
  user_agent: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor_id: string | null;
  actor_label: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: string | null;
  client_ip: string | null;
  /** Set for entries written once per fact (a denial per session and resource); unique (011). */
  dedupe_key: Generated<string | null>;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  /** sha256 of the whole key; keys have 256 bits, so a fast hash is enough. */
  key_hash: string;
  prefix: string;
  /** helpdesk since 017 (lib/admin/permissions.ts). */
  role: 'admin' | 'helpdesk' | 'read';
  created_at: number;
  created_by: string | null;
  last_used_at: number | null;
  revoked_at: number | null;
  /** From this instant on the key is refused; null: it does not expire (migration 015). */
  expires_at: number | null;
}

export interface AuthThrottleTable {
  /** "user:<username_lower>" or "ip:<address>". */
  key: string;
  failures: number;
  window_started_at: number;
  blocked_until: number;
}

export interface MfaRequirementsTable {
  user_id: string;
  required: number;
  enrollment_days: number;
  /** Null while the user is staged (pre-enrollment, R-B4): the period starts on activation. */
  period_starts_at: number | null;
  period_ends_at: number | null;
  set_by: string | null;
  set_at: number;
  /** A period began and its "period started" message is not queued yet: why it began (008-start-notice.ts). */
  start_notice: StartNoticeReason | null;
}

export type StartNoticeReason = 'required' | 'activated' | 'reset';

export interface PoliciesTable {
  id: string;
  name: string;
  name_lower: string;
  description: string | null;
  enabled: number;
  scope: 'all' | 'groups';
  include_group_ids: string;
  exclude_group_ids: string;
  conditions: string;
  resources: string;
  action: 'allow' | 'require_mfa' | 'deny';
  priority: number;
  /** Issue 18 (016): 'any' or 'phishing_resistant' (WebAuthn only); require-MFA policies only. */
  strength: 'any' | 'phishing_resistant';
  /** Issue 18 (016): second factor within the last N minutes (5 … 43200), or null. */
  reverify_minutes: number | null;
  /** Issue 18 (018): "don't ask again on this device for N days" (1 … 90), or null; require-MFA policies only. */
  remember_days: number | null;
  /** Issue 18 (019): days of grace for people who newly enter the scope (0 … 365); require-MFA only. */
  grace_days: number;
  created_at: number;
  updated_at: number;
}

export interface MfaSettingsTable {
  id: number;
  totp_enabled: number;
  webauthn_enabled: number;
  duo_enabled: number;
  duo_client_id: string | null;
  duo_client_secret_enc: string | null;
  duo_api_host: string | null;
  duo_redirect_uri: string | null;
  /** R-D11: challenge users who have a factor even when nothing requires MFA (011; default 1). */
  challenge_enrolled: number;
  /** Issue 18 (016): the admin console asks for a second factor again after this many minutes (default 720). */
  admin_reverify_minutes: number;
  updated_at: number;
  updated_by: string | null;
}

export interface ConfigVersionTable {
  id: number;
  version: number;
}

export type FactorType = 'totp' | 'webauthn' | 'duo';

export interface FactorsTable {
  id: string;
  user_id: string;
  type: FactorType;
  name: string;
  created_at: number;
  last_used_at: number | null;
  /** TOTP: the secret, AES-256-GCM with a key id (lib/crypto). */
  secret_enc: string | null;
  /** TOTP: the last time step accepted; replays of it or earlier are refused (R-I3). */
  last_used_step: number | null;
  credential_id: string | null;
  public_key: string | null;
  sign_count: number | null;
  transports: string | null;
}

export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  /** sha256 of the normalized code; codes carry 80 random bits (lib/factors/recovery-codes.ts). */
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

/** Second-factor guess budgets, per user: the charge lock, the unlock epoch, the last failures mail (010-guess-sources.ts). */
export interface MfaGuessAccountsTable {
  user_id: string;
  /** Raised by an admin unlock: counts charged under an older epoch no longer count. */
  epoch: number;
  notified_at: number | null;
}

export type GuessKindColumn = 'totp' | 'recovery';

/** Failures per (user, kind, source): `session:<id>` or `ip:<address>` (lib/auth/mfa-budget.ts). */
export interface MfaGuessSourcesTable {
  user_id: string;
  kind: GuessKindColumn;
  source: string;
  failures: number;
  last_failure_at: number;
  epoch: number;
}

/** One row per charged second-factor failure, for the per-account rolling-day cap. */
export interface MfaGuessFailuresTable {
  id: string;
  user_id: string;
  kind: GuessKindColumn;
  at: number;
  epoch: number;
}

/** The distinct accounts that failed a password sign-in from an address (lib/auth/throttle.ts). */
export interface SignInAddressFailuresTable {
  address: string;
  /** The username tried, lowercased. */
  account: string;
  last_failed_at: number;
}

export type MailKind =
  | 'enrollment_started'
  | 'enrollment_reminder'
  | 'enrollment_expired'
  | 'factor_added'
  | 'factor_removed'
  | 'recovery_code_used'
  | 'second_factor_failures'
  | 'invitation'
  | 'password_reset'
  | 'password_changed';
export type MailStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'dead' | 'skipped';

/** The mail queue (lib/mail, db/queries/mail.ts). */
export interface MailOutboxTable {
  id: string;
  user_id: string | null;
  kind: MailKind;
  /** Unique: `enrollment_started:<userId>:<periodStartsAt>`, `reminder:<userId>:<periodEndsAt>:<offsetMs>`, … */
  idempotency_key: string;
  /** Null when skipped for want of an address. */
  to_address: string | null;
  /** JSON: the facts the message states, frozen at enqueue time. */
  params: string;
  subject: string;
  /** Rendered by the worker when it delivers (null until then). */
  text_body: string | null;
  html_body: string | null;
  message_id: string | null;
  status: MailStatus;
  attempts: number;
  /** Pending: due time; sending: lease end; otherwise null. */
  next_attempt_at: number | null;
  locked_by: string | null;
  locked_until: number | null;
  /** The last delivery error, or why the message was skipped. */
  last_error: string | null;
  delivered_via: 'smtp' | 'outbox' | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
}

/** Spent single-use values of the WebAuthn and Duo ceremonies (lib/factors/webauthn.ts, duo.ts). */
export interface SpentNoncesTable {
  /** sha256 of purpose and value; the value itself is never stored. */
  nonce_hash: string;
  purpose: string;
  user_id: string;
  spent_at: number;
  /** After this the value is refused anyway (expired), so the row may go. */
  expires_at: number;
}

export type AccountTokenPurpose = 'invitation' | 'password_reset';

/** Links to set one's own password: invitations and resets (013-account-tokens.ts, lib/auth/account-tokens.ts). */
export interface AccountTokensTable {
  id: string;
  user_id: string;
  purpose: AccountTokenPurpose;
  /** sha256 of the link's token; the token itself is derived when the mail is rendered, never stored. */
  token_hash: string;
  created_at: number;
  /** The admin (or null for the person themself) who asked for it. */
  created_by: string | null;
  /** Null: an invitation to a staged user, neither sent nor valid until activation. */
  expires_at: number | null;
  used_at: number | null;
  /** Replaced by a newer link, or moot (the account went away from under it). */
  voided_at: number | null;
}

/** Devices a person asked not to be challenged on again (018-remembered-devices.ts, lib/auth/remembered-devices.ts). */
export interface RememberedDevicesTable {
  id: string;
  user_id: string;
  /** sha256 (hex) of the cookie's token; the token itself is never stored. */
  token_hash: string;
  /** Browser family and OS it was made on (lib/policy/user-agent.ts). */
  browser: string;
  os: string;
  created_at: number;
  /** Updated at most once an hour (rememberedDeviceTouchMs), not per request. */
  last_seen_at: number;
  expires_at: number;
  forgotten_at: number | null;
}

/** Issue 18 (019): a person's grace window under one require-MFA policy (lib/admin/grace-windows.ts). */
export interface PolicyGraceTable {
  user_id: string;
  policy_id: string;
  starts_at: number;
  ends_at: number;
}

export interface Database {
  remembered_devices: RememberedDevicesTable;
  account_tokens: AccountTokensTable;
  mfa_requirements: MfaRequirementsTable;
  policies: PoliciesTable;
  policy_grace: PolicyGraceTable;
  mfa_settings: MfaSettingsTable;
  config_version: ConfigVersionTable;
  factors: FactorsTable;
  users: UsersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  sessions: SessionsTable;
  audit_log: AuditLogTable;
  api_keys: ApiKeysTable;
  auth_throttle: AuthThrottleTable;
  recovery_codes: RecoveryCodesTable;
  mfa_guess_accounts: MfaGuessAccountsTable;
  mfa_guess_sources: MfaGuessSourcesTable;
  mfa_guess_failures: MfaGuessFailuresTable;
  sign_in_address_failures: SignInAddressFailuresTable;
  spent_nonces: SpentNoncesTable;
  mail_outbox: MailOutboxTable;
}
