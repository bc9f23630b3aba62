/**
 * Every metric /metrics serves, with every value each label may take. Pure data: the
 * registry (./registry.ts) builds the metrics from it, the README's "Monitoring" section
 * lists the same names, and test/unit/metrics checks that no label can hold anything else.
 *
 * Cardinality stays bounded by construction: a label's value is one of the lists below, or
 * `other` (boundedLabel). Nothing a user or client chooses (user names, addresses, ids,
 * paths) is ever a value. The one label from configuration, a gate decision's `resource`,
 * is a resource id the operator declared (portcullis.config.ts, PORTCULLIS_RESOURCES),
 * checked against a shape and capped in number (resourceLabel).
 */

export const metricPrefix = 'portcullis_';

/** What the gate decided (lib/policy Decision kinds), or why it could not. */
export const gateDecisionKinds = ['allow', 'login', 'challenge', 'enroll', 'locked', 'deny', 'unavailable'] as const;
/** Password sign-in outcomes (lib/auth/sign-in.ts); `error` is a sign-in that threw. */
export const signInOutcomes = ['ok', 'invalid', 'throttled', 'not_allowed', 'error'] as const;
export const secondFactorMethods = ['totp', 'recovery', 'webauthn', 'duo'] as const;
/** The union of the verify functions' results (lib/factors), `error` for one that threw. */
export const secondFactorOutcomes = [
  'ok',
  'invalid',
  'replayed',
  'throttled',
  'capped',
  'no_factor',
  'expired',
  'unknown_credential',
  'refused',
  'unavailable',
  'session_gone',
  'error',
] as const;
/**
 * Who was made to wait: a password sign-in by its account's or its address's throttle
 * (lib/auth/throttle.ts), a second-factor code by its budget (lib/auth/mfa-throttle.ts).
 */
export const throttleKinds = ['sign_in_account', 'sign_in_address', 'totp', 'recovery'] as const;
/** The mail worker's delivery outcomes (lib/mail/worker.ts DeliveryOutcome). */
export const mailOutcomes = ['sent', 'retry', 'failed', 'dead', 'skipped', 'lost_lease'] as const;
/** The calls to Duo (lib/factors/duo.ts), and `configuration`: its stored settings could not be used. */
export const duoCalls = ['configuration', 'health_check', 'token'] as const;
/** `refused`: Duo answered, and said no (a rejected code): it is up. */
export const duoCallOutcomes = ['ok', 'refused', 'error'] as const;
export const databaseDialects = ['sqlite', 'postgres'] as const;
/** `connect`: no connection to be had; `query`: a statement failed (constraint violations excluded: those are answers). */
export const databaseErrorKinds = ['connect', 'query'] as const;
/** Users per MFA status (lib/policy MfaStatusName), from the console's cached counts. */
export const userStatuses = ['enrolled', 'not_enrolled', 'enrollment_period', 'expired', 'pre_enrollment'] as const;
/** Request paths grouped (./route-group.ts): never the path itself. */
export const routeGroups = [
  'health',
  'metrics',
  'login',
  'signout',
  'mfa',
  'portal',
  'account',
  'admin',
  'apps',
  'api',
  'auth',
  'forward_auth',
  'static',
  'other',
] as const;
export const statusClasses = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Seconds; from a forward-auth answer (a few ms) to a slow sign-in under load (seconds). */
export const requestDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The value every label falls back to when handed something outside its list. */
export const otherValue = 'other';

/** At most this many distinct resources are told apart; more (a misconfiguration) become `other`. */
export const maxResourceLabels = 64;
const resourceShape = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** `value` if it is one of `allowed`, else `other`. */
export function boundedLabel<T extends string>(allowed: readonly T[], value: string): T | typeof otherValue {
  return (allowed as readonly string[]).includes(value) ? (value as T) : otherValue;
}

/**
 * A resource id as a label: the id when it has a resource id's shape and is among the first
 * `maxResourceLabels` seen, `none` when the request named no resource, else `other`.
 * @param seen the ids already given out (the registry keeps one set per process)
 */
export function resourceLabel(resource: string | null, seen: Set<string>): string {
  if (resource === null) return 'none';
  if (!resourceShape.test(resource)) return otherValue;
  if (seen.has(resource)) return resource;
  if (seen.size >= maxResourceLabels) return otherValue;
  seen.add(resource);
  return resource;
}

/** "2xx" for 204; `other` outside 100–599. */
export function statusClassOf(status: number): string {
  const klass = Math.floor(status / 100);
  return klass >= 1 && klass <= 5 ? `${klass}xx` : otherValue;
}

export interface MetricDefinition {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** Each label and every value it may take (besides `other`); a resource label says so. */
  labels: Record<string, readonly string[] | 'resource'>;
}

const m = (name: string, type: MetricDefinition['type'], help: string, labels: MetricDefinition['labels'] = {}): MetricDefinition => ({
  name: `${metricPrefix}${name}`,
  type,
  help,
  labels,
});

/** Every metric Portcullis defines itself (the process_* and nodejs_* defaults come from prom-client). */
export const metricDefinitions = {
  gateDecisions: m('gate_decisions_total', 'counter', 'Access decisions by the gate (entry server, middleware, forward-auth), by kind and resource.', {
    kind: gateDecisionKinds,
    resource: 'resource',
  }),
  signIns: m('sign_ins_total', 'counter', 'Password sign-ins by outcome.', { outcome: signInOutcomes }),
  secondFactorVerifications: m('second_factor_verifications_total', 'counter', 'Second-factor verifications at sign-in or step-up, by method and outcome.', {
    method: secondFactorMethods,
    outcome: secondFactorOutcomes,
  }),
  throttleBlocks: m('throttle_blocks_total', 'counter', 'Attempts refused by guess throttling before any check, by kind.', { kind: throttleKinds }),
  users: m('users', 'gauge', 'Users per MFA status, from the cached count (absent until one was made; see portcullis_user_counts_age_seconds).', {
    status: userStatuses,
  }),
  userCountsAge: m('user_counts_age_seconds', 'gauge', 'Age of the cached user count behind portcullis_users; absent while none was made.'),
  userCountsCached: m('user_counts_cached', 'gauge', '1 when portcullis_users comes from a count, 0 while the cache is cold.'),
  outboxDepth: m('mail_outbox_depth', 'gauge', 'Messages waiting to be sent (pending or being sent), as of the mail worker\'s last look.'),
  outboxOldestAge: m('mail_outbox_oldest_age_seconds', 'gauge', 'Age of the oldest message waiting to be sent (0 when none), as of the mail worker\'s last look.'),
  mailDeliveries: m('mail_deliveries_total', 'counter', 'Delivery attempts by the mail worker in this process, by outcome.', { outcome: mailOutcomes }),
  mailWorkerLastRoundAge: m('mail_worker_last_round_age_seconds', 'gauge', 'Seconds since the mail worker in this process last finished a round (since it started, before its first).'),
  requestDuration: m('http_request_duration_seconds', 'histogram', 'Time from request to response end in the entry server, by route group and status class.', {
    route: routeGroups,
    status_class: statusClasses,
  }),
  duoCalls: m('duo_calls_total', 'counter', 'Calls to Duo by call and outcome.', { call: duoCalls, outcome: duoCallOutcomes }),
  duoUp: m('duo_up', 'gauge', '1 when the last call to Duo was answered, 0 when it failed; absent before the first.'),
  databaseErrors: m('database_errors_total', 'counter', 'Database failures: no connection, or a statement that failed (constraint violations excluded).', {
    dialect: databaseDialects,
    kind: databaseErrorKinds,
  }),
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof metricDefinitions;
export type GateDecisionKind = (typeof gateDecisionKinds)[number];
export type SignInOutcome = (typeof signInOutcomes)[number];
export type SecondFactorMethod = (typeof secondFactorMethods)[number];
export type ThrottleKind = (typeof throttleKinds)[number];
export type MailOutcome = (typeof mailOutcomes)[number];
export type DuoCall = (typeof duoCalls)[number];
export type DuoCallOutcome = (typeof duoCallOutcomes)[number];
export type DatabaseErrorKind = (typeof databaseErrorKinds)[number];
