import {
  compilePolicies,
  type BrowserFamily,
  type DecisionInput,
  type Method,
  type MfaRequirement,
  type MfaSettings,
  type OsFamily,
  type PolicyAction,
  type PolicyRecord,
  type UserState,
} from '@/lib/policy';

/** Builders for readable, table-driven policy tests (after Authelia's authorizer_test.go). */

export const DAY = 86_400_000;
export const NOW = Date.UTC(2025, 2, 14, 9, 30);

export const settingsOf = {
  totpOnly: { totp: true, webauthn: false, duo: false },
  totpAndWebauthn: { totp: true, webauthn: true, duo: false },
  webauthnAndDuo: { totp: false, webauthn: true, duo: true },
  totpAndDuo: { totp: true, webauthn: false, duo: true },
  all: { totp: true, webauthn: true, duo: true },
  duoOnly: { totp: false, webauthn: false, duo: true },
  webauthnOnly: { totp: false, webauthn: true, duo: false },
  none: { totp: false, webauthn: false, duo: false },
} satisfies Record<string, MfaSettings>;

/** Required, with a window from `startOffset` to `endOffset` relative to NOW. */
export function requiredWindow(startOffset: number, endOffset: number, days = 7): MfaRequirement {
  return { required: true, enrollmentDays: days, periodStartsAt: NOW + startOffset, periodEndsAt: NOW + endOffset };
}

export const pendingActivation: MfaRequirement = { required: true, enrollmentDays: 7, periodStartsAt: null, periodEndsAt: null };

export class PolicyBuilder {
  private record: PolicyRecord;
  constructor(name: string) {
    this.record = {
      id: `p-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
      name,
      description: null,
      enabled: true,
      scope: 'all',
      includeGroupIds: [],
      excludeGroupIds: [],
      conditions: {},
      resources: ['portal'],
      action: 'require_mfa',
    };
  }
  action(a: PolicyAction | string): this {
    this.record.action = a as PolicyAction;
    return this;
  }
  allow(): this {
    return this.action('allow');
  }
  requireMfa(): this {
    return this.action('require_mfa');
  }
  deny(): this {
    return this.action('deny');
  }
  off(): this {
    this.record.enabled = false;
    return this;
  }
  groups(...ids: string[]): this {
    this.record.scope = 'groups';
    this.record.includeGroupIds = ids;
    return this;
  }
  excluding(...ids: string[]): this {
    this.record.excludeGroupIds = ids;
    return this;
  }
  on(...resources: string[]): this {
    this.record.resources = resources;
    return this;
  }
  ipIn(...cidrs: string[]): this {
    this.record.conditions = { ...this.record.conditions, ipIn: cidrs };
    return this;
  }
  ipNotIn(...cidrs: string[]): this {
    this.record.conditions = { ...this.record.conditions, ipNotIn: cidrs };
    return this;
  }
  os(...families: OsFamily[]): this {
    this.record.conditions = { ...this.record.conditions, osIn: families };
    return this;
  }
  browser(...families: BrowserFamily[]): this {
    this.record.conditions = { ...this.record.conditions, browserIn: families };
    return this;
  }
  priority(n: number): this {
    this.record.priority = n;
    return this;
  }
  /** Issue 18: WebAuthn only. */
  phishingResistant(): this {
    this.record.strength = 'phishing_resistant';
    return this;
  }
  /** Issue 18: a second factor within the last `minutes`. */
  reverifyEvery(minutes: number): this {
    this.record.reverifyMinutes = minutes;
    return this;
  }
  /** Issue 18 part 3: "don't ask again on this device for `days` days". */
  rememberFor(days: number | null): this {
    this.record.rememberDays = days;
    return this;
  }
  build(): PolicyRecord {
    return structuredClone(this.record);
  }
}

export const policy = (name: string) => new PolicyBuilder(name);

export interface Persona {
  name: string;
  state: UserState;
  groups: string[];
  enrolled: Method[];
  requirement: MfaRequirement | null;
  skipped?: boolean;
  aal?: 1 | 2;
}

export function persona(name: string, p: Partial<Omit<Persona, 'name'>> = {}): Persona {
  return { name, state: 'active', groups: [], enrolled: [], requirement: null, ...p };
}

/** A request by a persona, with sensible defaults: portal, aal1, TOTP-only settings, no policies. */
export class Scenario {
  private input: DecisionInput;
  private records: PolicyRecord[] = [];
  constructor(who: Persona | null) {
    this.input = {
      now: NOW,
      resource: 'portal',
      session:
        who === null
          ? null
          : { amr: who.aal === 2 ? [{ method: 'pwd', at: NOW }, { method: 'totp', at: NOW }] : [{ method: 'pwd', at: NOW }], mfaSkipped: who.skipped ?? false },
      user: who === null ? null : { id: `u-${who.name.toLowerCase()}`, state: who.state, groupIds: new Set(who.groups) },
      requirement: who?.requirement ?? null,
      enrolledMethods: who?.enrolled ?? [],
      settings: settingsOf.totpOnly,
      request: { ip: '203.0.113.7', os: 'windows', browser: 'chrome' },
      policies: [],
    };
  }
  at(now: number): this {
    this.input.now = now;
    return this;
  }
  resource(r: string): this {
    this.input.resource = r;
    return this;
  }
  from(ip: string): this {
    this.input.request = { ...this.input.request, ip };
    return this;
  }
  using(os: OsFamily, browser: BrowserFamily): this {
    this.input.request = { ...this.input.request, os, browser };
    return this;
  }
  settings(s: MfaSettings): this {
    this.input.settings = s;
    return this;
  }
  /** R-D11 off: the org does not challenge users for factors nothing requires. */
  withoutOwnFactorChallenge(): this {
    this.input.settings = { ...this.input.settings, challengeEnrolled: false };
    return this;
  }
  policies(...ps: (PolicyRecord | PolicyBuilder)[]): this {
    this.records.push(...ps.map((p) => (p instanceof PolicyBuilder ? p.build() : p)));
    return this;
  }
  /** The session's amr: `[method, minutes before now]` pairs after the password (issue 18). */
  passed(...entries: [string, number][]): this {
    if (this.input.session) {
      this.input.session = {
        ...this.input.session,
        amr: [{ method: 'pwd', at: this.input.now - 24 * 60 * 60_000 }, ...entries.map(([method, ago]) => ({ method, at: this.input.now - ago * 60_000 }))],
      };
    }
    return this;
  }
  noSession(): this {
    this.input.session = null;
    return this;
  }
  groupsAsArray(): this {
    if (this.input.user) this.input.user = { ...this.input.user, groupIds: [...this.input.user.groupIds] };
    return this;
  }
  build(): DecisionInput {
    return { ...this.input, policies: compilePolicies(this.records) };
  }
}

export const as = (who: Persona | null) => new Scenario(who);
