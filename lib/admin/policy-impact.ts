import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { countFactorHolders, countInScope, sampleSlice, type ImpactScope, type ImpactSlice, type SampledUser } from '../../db/queries/policy-impact';
import { loadMfaSettings } from '../../db/queries/settings';
import type { PolicyRecord } from '../policy';
import type { Clock } from '../clock';
import { draftNewPolicy, draftPolicyChange } from './policies';
import { impactPlan, type FactorMethod } from './policy-impact-plan';

/**
 * Issue 18 §5: the impact preview. Before a policy goes ON (created ON, switched ON, or
 * changed while ON), how many active users it will deny, force to enroll ("has a factor":
 * factors, none of which satisfies it; "has none": no factor at all) and challenge, with
 * the first names of each by username.
 *
 * Semantics, also said on the page and in the API's `assumptions`:
 * - Per-request conditions (source IP, OS, browser) cannot be known ahead: the counts assume
 *   a request that meets them.
 * - The counts are of this policy's scope alone: another ON policy that is stricter on the
 *   same resource may decide instead for some users. (Folding the others in set-based would
 *   need their conditions and resources intersected per user; a wrong "0 affected" is worse
 *   than a stated upper bound.)
 * - Only active users are counted: staged and suspended users are not signed in by anyone.
 * - "Challenge": asked for a satisfying second factor at the next sign-in.
 *
 * Set-based: the outcome per user depends only on which factor methods they hold
 * (policy-impact-plan.ts, checked against decide() by property tests), so a count of the
 * scope and one grouped pass over the factors give every number; samples are a LIMIT 10
 * each. Nothing is written: no policy, no audit entry.
 */

export const impactSampleSize = 10;

export interface ImpactGroup {
  count: number;
  /** The first users by username, at most impactSampleSize. */
  sample: SampledUser[];
}

export interface PolicyImpact {
  /** Active users the policy covers. */
  inScope: number;
  deny: ImpactGroup;
  enroll: { hasFactor: ImpactGroup; hasNone: ImpactGroup };
  challenge: ImpactGroup;
  /** An allow policy's users: it asks nothing of them. */
  allow: ImpactGroup;
  /** What the counts assume, in sentences for the admin. */
  assumptions: string[];
  /** When it was counted (ms). */
  countedAt: number;
}

const empty = (): ImpactGroup => ({ count: 0, sample: [] });

/** Above this many users in scope per user of a slice, its sample starts from the factor rows instead of walking usernames. */
const walkRatio = 2_000;

function assumptionsOf(record: PolicyRecord): string[] {
  const out: string[] = [];
  const c = record.conditions;
  if (c.ipIn?.length || c.ipNotIn?.length || c.osIn?.length || c.browserIn?.length) {
    out.push('Conditions on the source IP, operating system or browser are checked on each request and cannot be known ahead: these counts assume a request that meets them.');
  }
  out.push('Counted for this policy alone: another ON policy that is stricter on the same resource may decide instead for some of these users.');
  out.push('Only active users are counted; staged and suspended users are not.');
  if (record.action === 'allow') {
    out.push('An allow policy asks nothing: these are the users it covers. Individual MFA requirements, and the challenge of users who set up a factor, still apply to them.');
  }
  if (record.action === 'require_mfa') {
    out.push('"Challenge" means asked for a satisfying second factor at the next sign-in.');
  }
  return out;
}

async function sampleOf(db: Kysely<Database>, scope: ImpactScope, slice: ImpactSlice, count: number, total: number): Promise<SampledUser[]> {
  if (count === 0) return [];
  const walk = slice.kind !== 'all' && slice.kind !== 'no_factor' && total > count * walkRatio ? 'factors' : 'username';
  return sampleSlice(db, scope, slice, impactSampleSize, walk);
}

/** The impact of `record` as if it were ON. Reads only. */
export async function policyImpact(db: Kysely<Database>, record: PolicyRecord, clock: Clock): Promise<PolicyImpact> {
  const countedAt = clock.now();
  const scope: ImpactScope = {
    allUsers: record.scope === 'all',
    includeGroupIds: record.includeGroupIds,
    excludeGroupIds: record.excludeGroupIds,
  };
  const plan = impactPlan(record, await loadMfaSettings(db));
  // Null: the outcome is the same for everyone in scope (deny, allow, or Duo only: challenge).
  const methods: readonly FactorMethod[] | null = plan.kind === 'second_factor' ? plan.satisfying : null;
  // NOTE: started together: on PostgreSQL they run on two pooled connections at once (the two
  // scans are most of the time); SQLite runs them one after the other anyway.
  const [total, factorCounts] = await Promise.all([countInScope(db, scope), methods !== null ? countFactorHolders(db, scope, methods) : null]);
  const impact: PolicyImpact = {
    inScope: total,
    deny: empty(),
    enroll: { hasFactor: empty(), hasNone: empty() },
    challenge: empty(),
    allow: empty(),
    assumptions: assumptionsOf(record),
    countedAt,
  };
  if (methods === null || factorCounts === null) {
    const group = plan.kind === 'deny' ? impact.deny : plan.kind === 'allow' ? impact.allow : impact.challenge;
    group.count = total;
    group.sample = await sampleOf(db, scope, { kind: 'all' }, total, total);
    return impact;
  }
  const { holders, satisfied } = factorCounts;
  impact.challenge.count = satisfied;
  impact.enroll.hasFactor.count = holders - satisfied;
  impact.enroll.hasNone.count = total - holders;
  const [challenge, hasFactor, hasNone] = await Promise.all([
    sampleOf(db, scope, { kind: 'satisfied', methods }, satisfied, total),
    sampleOf(db, scope, { kind: 'unsatisfied_holder', methods }, holders - satisfied, total),
    sampleOf(db, scope, { kind: 'no_factor' }, total - holders, total),
  ]);
  impact.challenge.sample = challenge;
  impact.enroll.hasFactor.sample = hasFactor;
  impact.enroll.hasNone.sample = hasNone;
  return impact;
}

/**
 * What the admin saw, as a digest: the console's Confirm carries it, and the change is applied
 * only if the draft, validated again, still has the same digest (else it is previewed again).
 * Over the policy's fields, not its id (a new policy's id is drawn at each validation).
 */
export function previewDigest(record: PolicyRecord): string {
  const { id: _id, ...fields } = record;
  const ordered = Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(JSON.stringify(ordered)).digest('base64url');
}

export interface DryRun {
  dryRun: true;
  /** The policy as it would be stored (a new policy's id is not reserved). */
  policy: PolicyRecord;
  /** The fields a change would alter (a new policy: every field). */
  changed: string[];
  /** Its impact were it ON (it is computed for an OFF draft too, to see before switching it ON). */
  impact: PolicyImpact;
  digest: string;
}

/** POST /policies?dryRun=true: createPolicy()'s validation and errors, then the impact; writes nothing. */
export async function dryRunCreatePolicy(db: Kysely<Database>, input: unknown, clock: Clock): Promise<DryRun> {
  const policy = await draftNewPolicy(db, input);
  const changed = Object.keys(policy).filter((k) => k !== 'id');
  return { dryRun: true, policy, changed, impact: await policyImpact(db, policy, clock), digest: previewDigest(policy) };
}

/** PATCH /policies/{id}?dryRun=true: updatePolicy()'s validation and errors, then the impact; writes nothing. */
export async function dryRunUpdatePolicy(db: Kysely<Database>, id: string, patch: unknown, clock: Clock): Promise<DryRun> {
  const { next, changed } = await draftPolicyChange(db, id, patch);
  return { dryRun: true, policy: next, changed, impact: await policyImpact(db, next, clock), digest: previewDigest(next) };
}

/**
 * Whether a change needs the preview first: the policy ends up ON and either was OFF (created
 * ON, switched ON) or changes while ON.
 */
export function needsPreview(before: PolicyRecord | null, after: PolicyRecord, changed: readonly string[]): boolean {
  if (!after.enabled) return false;
  if (before === null || !before.enabled) return true;
  return changed.length > 0;
}
