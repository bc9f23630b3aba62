import { anyContains, parseIp } from './cidr';
import type { BrowserFamily, CompiledPolicy, DecisionInput, OsFamily, ParsedIp, PolicyAction } from './types';

/**
 * Whether one policy applies to a request, criterion by criterion (R-C1..R-C4). The ONE
 * matching code: decide() calls it with no record (it stops at the first criterion that
 * fails and allocates nothing), the "what if" explanation (explain.ts) with a record (it
 * checks every criterion and writes each outcome). Modelled on Authelia's
 * GetRuleMatchResults, which reports every rule's criteria beside the verdict.
 */

/** `not_set`: the policy has no such condition, so it does not narrow anything. */
export type CriterionOutcome = 'pass' | 'fail' | 'not_set';

/** Each criterion's outcome: `pass` means it lets the policy apply. */
export interface CriteriaRecord {
  /** R-C1: ON passes, OFF fails. */
  status: CriterionOutcome;
  /** R-C4: the resource asked for is one of the policy's targets. */
  resource: CriterionOutcome;
  /** R-C3 */
  os: CriterionOutcome;
  browser: CriterionOutcome;
  /** R-C2: passes unless the user is in an excluded group; `not_set` without exclusions. */
  exclusion: CriterionOutcome;
  /** R-C2: All Users, or the user is in an included group. */
  scope: CriterionOutcome;
  /** R-C3: the source address is in one of the ranges. */
  ipIn: CriterionOutcome;
  /** R-C3: the source address is in none of the ranges. */
  ipNotIn: CriterionOutcome;
  /** The address could not be read and the policy has an IP condition: see the unknown-address rule below. */
  unknownAddress: boolean;
}

export function emptyCriteriaRecord(): CriteriaRecord {
  return {
    status: 'not_set',
    resource: 'not_set',
    os: 'not_set',
    browser: 'not_set',
    exclusion: 'not_set',
    scope: 'not_set',
    ipIn: 'not_set',
    ipNotIn: 'not_set',
    unknownAddress: false,
  };
}

/** Iterates whichever side is cheap to iterate and probes the other; no allocation. */
export function inGroups(
  list: readonly string[],
  set: ReadonlySet<string>,
  userGroups: ReadonlySet<string> | readonly string[],
  userGroupsIsArray: boolean,
): boolean {
  if (list.length === 0) return false;
  if (userGroupsIsArray) {
    const groups = userGroups as readonly string[];
    for (let i = 0; i < groups.length; i++) if (set.has(groups[i]!)) return true;
    return false;
  }
  const groups = userGroups as ReadonlySet<string>;
  for (let i = 0; i < list.length; i++) if (groups.has(list[i]!)) return true;
  return false;
}

// One-entry memo of parseIp(): one decision asks for the same address once per policy with an
// IP condition, and parsing an IPv6 address (BigInt arithmetic) costs more than the rest of
// a policy's checks. The engine is synchronous and the result depends only on the text, so
// the memo changes no answer.
let memoText: string | null = null;
let memoIp: ParsedIp | null = null;

/** parseIp(), remembering the last address. */
export function addressOf(text: string): ParsedIp | null {
  if (text !== memoText) {
    memoIp = parseIp(text);
    memoText = text;
  }
  return memoIp;
}

/**
 * R-C1 and R-C4 at once: the policy is ON and aimed at `resource`. decide() asks this
 * first, before ranking policies, because it rules out most of them for one Set probe;
 * policyApplies() then checks (and records) every criterion, these two included.
 */
export function targets(p: CompiledPolicy, resource: string): boolean {
  return p.enabled && p.resources.has(resource);
}

function outcome(isSet: boolean, passes: boolean): CriterionOutcome {
  return isSet ? (passes ? 'pass' : 'fail') : 'not_set';
}

/**
 * Whether policy `p` applies to this user, resource and request.
 * @param record null in decide(): returns at the first failing criterion. Otherwise every
 *   criterion is checked and its outcome written there.
 */
export function policyApplies(
  p: CompiledPolicy,
  resource: string,
  userGroups: ReadonlySet<string> | readonly string[],
  userGroupsIsArray: boolean,
  request: { readonly ip: string; readonly os: OsFamily; readonly browser: BrowserFamily },
  record: CriteriaRecord | null,
): boolean {
  // Each criterion is computed once. Without a record, the first that fails ends the check;
  // with one, all are computed and written at the end.
  const hot = record === null;
  const on = p.enabled; // R-C1
  if (!on && hot) return false;
  const aimed = p.resources.has(resource); // R-C4
  if (!aimed && hot) return false;
  // R-C3, cheap Set probes before the group walks.
  const osOk = p.osIn === null || p.osIn.has(request.os);
  if (!osOk && hot) return false;
  const browserOk = p.browserIn === null || p.browserIn.has(request.browser);
  if (!browserOk && hot) return false;
  // R-C2: exclusion wins over inclusion.
  const notExcluded = !inGroups(p.excludeGroupList, p.excludeGroups, userGroups, userGroupsIsArray);
  if (!notExcluded && hot) return false;
  const inScope = p.allUsers || inGroups(p.includeGroupList, p.includeGroups, userGroups, userGroupsIsArray);
  if (!inScope && hot) return false;

  let ipInOk = true;
  let ipNotInOk = true;
  let unknownAddress = false;
  if (p.ipIn !== null || p.ipNotIn !== null) {
    const ip = addressOf(request.ip); // only read when a policy gets this far and asks
    if (ip === null) {
      // NOTE: an unreadable address ("unknown" when the server entry could not vouch
      // for it, R-I1) is unknown, not "outside every range". Allow policies grant
      // nothing beyond the default, so for them it is no match; deny and require-MFA
      // policies do match, so a missing address cannot dodge "deny outside the office".
      unknownAddress = true;
      ipInOk = ipNotInOk = p.action !== 'allow';
    } else {
      ipInOk = p.ipIn === null || anyContains(p.ipIn, ip);
      if (!ipInOk && hot) return false;
      ipNotInOk = p.ipNotIn === null || !anyContains(p.ipNotIn, ip);
    }
  }
  if (record !== null) {
    record.status = outcome(true, on);
    record.resource = outcome(true, aimed);
    record.os = outcome(p.osIn !== null, osOk);
    record.browser = outcome(p.browserIn !== null, browserOk);
    record.exclusion = outcome(p.excludeGroupList.length > 0, notExcluded);
    record.scope = outcome(true, inScope);
    record.ipIn = outcome(p.ipIn !== null, ipInOk);
    record.ipNotIn = outcome(p.ipNotIn !== null, ipNotInOk);
    record.unknownAddress = unknownAddress;
  }
  return on && aimed && osOk && browserOk && notExcluded && inScope && ipInOk && ipNotInOk;
}

/**
 * Set by strictestMatch(): whether an enabled require-MFA policy on the resource asks for a
 * strength or a re-verification (issue 18). decide() reads it right after, synchronously
 * (demandOnLastMatch()), so the common path (no such policy) skips the second pass over
 * the policies without allocating.
 */
let demandOnResource = false;

/** Whether the last strictestMatch() call saw a require-MFA policy on its resource that asks for a strength or an N. */
export function demandOnLastMatch(): boolean {
  return demandOnResource;
}

// R-C6: deny > require MFA > allow.
const RANK: Readonly<Record<PolicyAction, number>> = { allow: 1, require_mfa: 2, deny: 3 };

/**
 * Whether `a` beats `b`: stricter action, then lower priority, then name, then id.
 * Compared here rather than relying on array order, so callers may concatenate or
 * reorder compiled lists without changing decisions. Names compare by code unit, not
 * locale, so every server agrees.
 */
function precedes(a: CompiledPolicy, b: CompiledPolicy): boolean {
  const ra = RANK[a.action];
  const rb = RANK[b.action];
  if (ra !== rb) return ra > rb;
  if (a.priority !== b.priority) return a.priority < b.priority;
  if (a.name !== b.name) return a.name < b.name;
  return a.id < b.id;
}

/**
 * R-C1..R-C6: the strictest enabled policy that applies to this user, resource and request.
 * Each policy is checked by policyApplies(), the same code the "what if" explanation runs.
 * NOTE: here, beside policyApplies() and targets(), not in decide.ts: a call across modules
 * costs more in this loop (under tsx, 0.45× the decisions per second) than the checks do.
 */
export function strictestMatch(input: Pick<DecisionInput, 'policies' | 'resource' | 'request'>, userGroups: ReadonlySet<string> | readonly string[]): CompiledPolicy | null {
  const { policies, resource, request } = input;
  const userGroupsIsArray = Array.isArray(userGroups);
  let best: CompiledPolicy | null = null;
  demandOnResource = false;

  for (let i = 0; i < policies.length; i++) {
    const p = policies[i]!;
    if (!targets(p, resource)) continue; // most policies are ruled out here, for one Set probe
    if (p.action === 'require_mfa' && (p.phishingResistant || p.reverifyMs !== null)) demandOnResource = true;
    if (best !== null && !precedes(p, best)) continue; // cannot win, skip the work
    if (policyApplies(p, resource, userGroups, userGroupsIsArray, request, null)) best = p;
  }
  return best;
}
