import { z } from 'zod';
import { graceWindowsOfUser } from '../../db/queries/policy-grace';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { getUserById, getUserByUsername } from '../../db/queries/users';
import { groupIdsOfUser, listGroupNames } from '../../db/queries/groups';
import { enrolledMethodsOfUser, getMfaRequirement } from '../../db/queries/mfa';
import { loadPolicyRecords } from '../../db/queries/policies';
import { loadMfaSettings } from '../../db/queries/settings';
import { unknownClientIp } from '../auth/client-ip';
import { decisionInputOf, type SessionFacts, type UserFacts } from '../gate/decision-input';
import { declaredResources } from '../gate/declared-resources';
import {
  compilePolicies,
  decide,
  explainPolicies,
  parseIp,
  type BrowserFamily,
  type CriteriaRecord,
  type CriterionOutcome,
  type Decision,
  type Method,
  type OsFamily,
  type PolicyAction,
  type PolicyRecord,
} from '../policy';
import type { Clock } from '../clock';
import { browserFamilies, osFamilies } from './policies';
import { NotFoundError, parseInput, ValidationError } from './errors';

/**
 * "What if" (issue 18 §4): the decision the live gate would make for a user on a resource,
 * from an address, an OS and a browser, at a time, with every policy's criteria explained.
 *
 * The input is built by the gate's own builder (decisionInputOf) from the user's stored
 * facts, the current policies and settings, and decided by the same decide(). The session is
 * hypothetical: a sign-in at the asked time with the password only, or, when `secondFactor`
 * names a method, one that also passed that second factor then; it never skipped setup
 * ("Skip for now" not taken). Nothing is written: no session, no audit of the denial.
 */

const secondFactors = ['none', 'totp', 'webauthn', 'duo'] as const;
export type SecondFactorChoice = (typeof secondFactors)[number];

const unknownUser = 'Name the user by {"id": "…"} or {"username": "…"}.';

function unknownField(issue: { code?: string; keys?: string[] }): string {
  return issue.code === 'unrecognized_keys' ? `Unknown field: ${(issue.keys ?? []).join(', ')}.` : 'Expected a JSON object.';
}

export const whatIfSchema = z.strictObject(
  {
    user: z.union(
      [
        z.strictObject({ id: z.string().trim().min(1).max(200) }, { error: unknownField }),
        z.strictObject({ username: z.string().trim().min(1).max(200) }, { error: unknownField }),
      ],
      { error: unknownUser },
    ),
    resource: z.string('Choose a resource.').trim().min(1, 'Choose a resource.').max(64, 'Choose a resource.'),
    ip: z
      .string('Give an IP address, or "unknown".')
      .trim()
      .max(64)
      .refine((value) => value === unknownClientIp || parseIp(value) !== null, {
        message: 'Give an IPv4 or IPv6 address, or "unknown" (an address the server could not vouch for).',
      }),
    os: z.enum(osFamilies, { error: `Choose an operating system: ${osFamilies.join(', ')}.` }),
    browser: z.enum(browserFamilies, { error: `Choose a browser: ${browserFamilies.join(', ')}.` }),
    /** RFC 3339; the default is now. */
    at: z.iso.datetime({ offset: true, error: 'Give the time as RFC 3339, e.g. 2026-11-02T09:00:00Z.' }).optional(),
    secondFactor: z.enum(secondFactors, { error: `Choose the session's second factor: ${secondFactors.join(', ')}.` }).default('none'),
  },
  { error: unknownField },
);

export type WhatIfInput = z.input<typeof whatIfSchema>;

export interface CriterionResult {
  outcome: CriterionOutcome;
  /** The outcome in words, naming the values compared. */
  why: string;
}

export interface WhatIfPolicy {
  id: string;
  name: string;
  action: PolicyAction;
  enabled: boolean;
  /** All criteria pass. */
  applies: boolean;
  /** The strictest policy that applies (R-C6): the one the decision acts on. */
  strictest: boolean;
  criteria: Record<'status' | 'resource' | 'scope' | 'exclusion' | 'ipIn' | 'ipNotIn' | 'os' | 'browser', CriterionResult>;
}

export interface WhatIfResult {
  user: { id: string; username: string; state: string };
  resource: string;
  client: { ip: string; os: OsFamily; browser: BrowserFamily };
  /** The time decided for (epoch ms; RFC 3339 on the wire). */
  at: number;
  session: { secondFactor: SecondFactorChoice; description: string };
  decision: {
    kind: Decision['kind'];
    /** The SPEC rule that made it (R-D1…R-D15). */
    rule: string;
    /** The policy that made it, when one did. */
    policy: { id: string; name: string } | null;
    /** Methods offered (challenge, enroll). */
    methods?: Method[];
    /** Enroll: whether "Skip for now" is withheld. */
    forced?: boolean;
    /** Enroll: the period's end; locked: when it ended. */
    deadlineAt?: number | null;
  };
  /** Every policy, in the console's order (priority, then name). */
  policies: WhatIfPolicy[];
}

const osWords: Record<OsFamily, string> = {
  windows: 'Windows', macos: 'macOS', ios: 'iOS', android: 'Android', linux: 'Linux', chromeos: 'ChromeOS', other: 'Other',
};
const browserWords: Record<BrowserFamily, string> = {
  chrome: 'Chrome', edge: 'Edge', firefox: 'Firefox', safari: 'Safari', opera: 'Opera', other: 'Other',
};
const methodWords: Record<Method, string> = { totp: 'an authenticator app (TOTP)', webauthn: 'a security key or passkey (WebAuthn)', duo: 'Duo' };

function sessionOf(choice: SecondFactorChoice, at: number): { facts: SessionFacts; description: string } {
  if (choice === 'none') return { facts: { amr: [{ method: 'pwd', at }], mfaSkipped: false }, description: 'Signed in with the password only, at that time.' };
  return {
    facts: { amr: [{ method: 'pwd', at }, { method: choice, at }], mfaSkipped: false },
    description: `Signed in with the password and ${methodWords[choice]}, at that time.`,
  };
}

async function findUser(db: Kysely<Database>, who: { id: string } | { username: string }) {
  const row = 'id' in who ? await getUserById(db, who.id) : await getUserByUsername(db, who.username);
  if (!row) throw new NotFoundError('user', ['id' in who ? who.id : who.username]);
  return row;
}

const list = (values: readonly string[]) => values.join(', ');

/** Each criterion's outcome in words, naming what was compared. */
function criteriaWords(
  record: PolicyRecord,
  criteria: CriteriaRecord,
  via: { includedVia: string[]; excludedVia: string[] },
  input: { resource: string; ip: string; os: OsFamily; browser: BrowserFamily },
  groupName: (id: string) => string,
): WhatIfPolicy['criteria'] {
  const groups = (ids: readonly string[]) => list(ids.map(groupName));
  const c = criteria;
  const unknownIp = `the address is unknown, which counts as ${record.action === 'allow' ? 'no match for an allow policy' : `a match for a ${record.action === 'deny' ? 'deny' : 'require-MFA'} policy`}`;
  const ipWords = (outcome: CriterionOutcome, ranges: readonly string[] | undefined, inside: boolean): string => {
    if (outcome === 'not_set') return inside ? 'Any address' : 'No ranges excluded';
    if (c.unknownAddress) return `Ranges ${list(ranges ?? [])}: ${unknownIp}`;
    const isIn = inside ? outcome === 'pass' : outcome === 'fail';
    return `${input.ip} is ${isIn ? '' : 'not '}in ${list(ranges ?? [])}`;
  };
  return {
    status: { outcome: c.status, why: record.enabled ? 'ON' : 'OFF: it has no effect' },
    resource: {
      outcome: c.resource,
      why: `${input.resource} is ${c.resource === 'pass' ? '' : 'not '}one of its resources (${list(record.resources)})`,
    },
    scope: {
      outcome: c.scope,
      why:
        record.scope === 'all'
          ? 'All Users'
          : c.scope === 'pass'
            ? `In ${groups(via.includedVia)}`
            : `In none of ${groups(record.includeGroupIds) || 'its groups (none chosen)'}`,
    },
    exclusion: {
      outcome: c.exclusion,
      why: c.exclusion === 'not_set' ? 'No groups excluded' : c.exclusion === 'fail' ? `Excluded: in ${groups(via.excludedVia)}` : `In none of ${groups(record.excludeGroupIds)}`,
    },
    ipIn: { outcome: c.ipIn, why: ipWords(c.ipIn, record.conditions.ipIn, true) },
    ipNotIn: { outcome: c.ipNotIn, why: ipWords(c.ipNotIn, record.conditions.ipNotIn, false) },
    os: {
      outcome: c.os,
      why: c.os === 'not_set' ? 'Any operating system' : `${osWords[input.os]} is ${c.os === 'pass' ? '' : 'not '}one of ${list((record.conditions.osIn ?? []).map((o) => osWords[o]))}`,
    },
    browser: {
      outcome: c.browser,
      why:
        c.browser === 'not_set'
          ? 'Any browser'
          : `${browserWords[input.browser]} is ${c.browser === 'pass' ? '' : 'not '}one of ${list((record.conditions.browserIn ?? []).map((b) => browserWords[b]))}`,
    },
  };
}

function decisionSummary(decision: Decision): WhatIfResult['decision'] {
  const base = { kind: decision.kind, rule: decision.rule, policy: 'policy' in decision && decision.policy ? { id: decision.policy.id, name: decision.policy.name } : null };
  switch (decision.kind) {
    case 'challenge':
      return { ...base, methods: decision.methods };
    case 'enroll':
      return { ...base, methods: decision.methods, forced: decision.forced, deadlineAt: decision.deadline };
    case 'locked':
      return { ...base, deadlineAt: decision.expiredAt };
    default:
      return base;
  }
}

/**
 * The gate's decision for the hypothetical request, and why each policy did or did not
 * apply. Reads only. Throws ValidationError on bad input (an undeclared resource included)
 * and NotFoundError for an unknown user.
 */
export async function whatIf(db: Kysely<Database>, raw: unknown, clock: Clock): Promise<WhatIfResult> {
  const input = parseInput(whatIfSchema, raw);
  const resources = declaredResources().ids;
  if (!resources.includes(input.resource)) {
    throw new ValidationError({ resource: [`Unknown resource "${input.resource}": choose from ${resources.join(', ')}.`] });
  }
  const at = input.at === undefined ? clock.now() : Date.parse(input.at);
  const user = await findUser(db, input.user);
  // NOTE: loaded directly, not through the gate's compiled cache: the answer must come from
  // this database as it is now (tests run many at once), and the tool is rarely used.
  const [requirement, groupIds, enrolledMethods, records, settings, groupNames, grace] = await Promise.all([
    getMfaRequirement(db, user.id),
    groupIdsOfUser(db, user.id),
    enrolledMethodsOfUser(db, user.id),
    loadPolicyRecords(db),
    loadMfaSettings(db),
    listGroupNames(db),
    graceWindowsOfUser(db, user.id),
  ]);
  // Issue 18 part 6: the user's grace windows too, so the answer is the live one (R-D16).
  const graceWindows = grace.length > 0 ? new Map(grace.map((g) => [g.policyId, g.endsAt])) : null;
  const facts: UserFacts = { userId: user.id, userState: user.state, groupIds, requirement, enrolledMethods, graceWindows };
  const session = sessionOf(input.secondFactor, at);
  const client = { ip: input.ip, os: input.os, browser: input.browser };
  const decisionInput = decisionInputOf(facts, session.facts, input.resource, client, { settings, policies: compilePolicies(records) }, at);
  const decision = decide(decisionInput);
  const explanation = explainPolicies(decisionInput);
  const names = new Map(groupNames.map((g) => [g.id, g.name]));
  const groupName = (id: string) => names.get(id) ?? id;
  return {
    user: { id: user.id, username: user.username, state: user.state },
    resource: input.resource,
    client,
    at,
    session: { secondFactor: input.secondFactor, description: session.description },
    decision: decisionSummary(decision),
    policies: explanation.policies.map((e, i) => ({
      id: e.policy.id,
      name: e.policy.name,
      action: e.action,
      enabled: e.enabled,
      applies: e.applies,
      strictest: e.strictest,
      criteria: criteriaWords(records[i]!, e.criteria, e, { resource: input.resource, ...client }, groupName),
    })),
  };
}
