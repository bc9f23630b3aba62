import { emptyCriteriaRecord, policyApplies, strictestMatch, type CriteriaRecord } from './criteria';
import type { DecisionInput, PolicyAction, PolicyRef } from './types';

/**
 * "What if" (issue 18 §4): for every policy, whether it applies to a DecisionInput and why,
 * criterion by criterion, as Authelia's GetRuleMatchResults reports its rules. It runs the
 * very matching code decide() runs (policyApplies, strictestMatch), never a copy, so an
 * explanation cannot disagree with a decision.
 */

export interface PolicyExplanation {
  policy: PolicyRef;
  action: PolicyAction;
  enabled: boolean;
  /** Every criterion's outcome (`pass` lets the policy apply). */
  criteria: CriteriaRecord;
  /** All criteria pass. */
  applies: boolean;
  /** It applies and is the strictest that does (R-C6): the policy decide() acts on. */
  strictest: boolean;
  /** The user's groups among the policy's included groups (empty for All Users). */
  includedVia: string[];
  /** The user's groups among the policy's excluded groups. */
  excludedVia: string[];
}

export interface Explanation {
  /** One entry per policy, in the order of `input.policies`. */
  policies: PolicyExplanation[];
  /** The strictest applying policy, or null when none applies. */
  strictest: PolicyRef | null;
}

export function explainPolicies(input: DecisionInput): Explanation {
  const userGroups = input.user?.groupIds ?? [];
  const groupsIsArray = Array.isArray(userGroups);
  const has = (id: string) => (groupsIsArray ? (userGroups as readonly string[]).includes(id) : (userGroups as ReadonlySet<string>).has(id));
  const strictest = strictestMatch(input, userGroups);
  const policies = input.policies.map((p): PolicyExplanation => {
    const criteria = emptyCriteriaRecord();
    const applies = policyApplies(p, input.resource, userGroups, groupsIsArray, input.request, criteria);
    return {
      policy: p.ref,
      action: p.action,
      enabled: p.enabled,
      criteria,
      applies,
      strictest: strictest === p,
      includedVia: p.allUsers ? [] : p.includeGroupList.filter(has),
      excludedVia: p.excludeGroupList.filter(has),
    };
  });
  return { policies, strictest: strictest?.ref ?? null };
}
