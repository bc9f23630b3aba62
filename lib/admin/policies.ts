import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import { findUnknownGroupIds } from '../../db/queries/groups';
import {
  deletePolicyRow,
  findPolicyIdByName,
  getPolicyById,
  insertPolicy,
  loadPolicyRecords,
  setPolicyEnabledRow,
  updatePolicyRow,
} from '../../db/queries/policies';
import { isUniqueViolation } from '../../db/queries/unique-violation';
import { bumpConfigVersion, loadMfaSettings } from '../../db/queries/settings';
import {
  authStrengths,
  compilePolicy,
  maxGraceDays,
  maxRememberDays,
  maxReverifyMinutes,
  minGraceDays,
  minRememberDays,
  minReverifyMinutes,
  parseCidr,
  type BrowserFamily, type OsFamily, type PolicyConditions,
  type PolicyRecord,
} from '../policy';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { ConflictError, NotFoundError, parseInput, ValidationError } from './errors';

/** Conditional access policies (R-C1..R-C5): one audited, versioned transaction per change. */

export const portalResource = 'portal';
export const maxCidrsPerCondition = 100;
export const maxGroupsPerPolicy = 1000;
export const maxResourcesPerPolicy = 100;
export const maxPolicyNameLength = 100;
export const maxPolicyDescriptionLength = 1000;

// `satisfies` makes the compiler list a family the engine adds and refuse one it drops.
const osFamilyNames = {
  windows: true,
  macos: true,
  ios: true,
  android: true,
  linux: true,
  chromeos: true,
  other: true,
} satisfies Record<OsFamily, true>;
const browserFamilyNames = {
  chrome: true,
  edge: true,
  firefox: true,
  safari: true,
  opera: true,
  other: true,
} satisfies Record<BrowserFamily, true>;
export const osFamilies = Object.keys(osFamilyNames) as [OsFamily, ...OsFamily[]];
export const browserFamilies = Object.keys(browserFamilyNames) as [BrowserFamily, ...BrowserFamily[]];

// The ids PORTCULLIS_RESOURCES accepts (lib/gate/host-routes.ts), so every declared resource can be targeted.
const resourceIdPattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const rememberRangeMessage = `"Don't ask again on this device" is for ${minRememberDays} to ${maxRememberDays} days, or not allowed.`;
/** Issue 18 part 3: such policies ignore remembered devices, so allowing them would mislead. */
export const rememberOnlyRequireMfa = 'Only a require-MFA policy can let people skip the challenge on a remembered device.';
export const rememberIgnoredMessage = 'A phishing-resistant or re-verifying policy ignores remembered devices: leave "don\'t ask again" off.';
export const graceRangeMessage = `Grace is a whole number of days, ${minGraceDays} (forced at once) to ${maxGraceDays}.`;

export const reverifyRangeMessage = `Re-verification is every ${minReverifyMinutes} minutes to ${maxReverifyMinutes} minutes (30 days), or none.`;

/** Issue 18: the refusal when a phishing-resistant policy would be saved, or stay ON, without WebAuthn. */
export const phishingResistantNeedsWebauthn =
  'A phishing-resistant policy needs WebAuthn: enable WebAuthn in MFA settings first, or choose "any second factor".';

function distinct<T>(list: readonly T[]): T[] {
  return [...new Set(list)];
}

function cidrList(what: string) {
  return z
    .array(z.string('Each IP range must be text.').trim(), `${what} must be a list of IP ranges.`)
    .max(maxCidrsPerCondition, `${what}: at most ${maxCidrsPerCondition} IP ranges.`)
    .superRefine((list, ctx) => {
      list.forEach((value, index) => {
        try {
          parseCidr(value);
        } catch (err) {
          const why = (err as Error).message.split(': ').slice(1).join(': ') || 'not a valid range';
          ctx.addIssue({
            code: 'custom',
            path: [index],
            message: `"${value}" is not a valid IP range (${why}); use CIDR notation such as 10.0.0.0/8 or 2001:db8::/32.`,
          });
        }
      });
    })
    .transform(distinct);
}

function familyList<T extends string>(values: [T, ...T[]], what: string) {
  return z
    .array(
      z.enum(values, { error: (issue) => `Unknown ${what} ${JSON.stringify(issue.input)}: choose from ${values.join(', ')}.` }),
      `Expected a list of ${what} families.`,
    )
    .transform(distinct);
}

// NOTE: strict objects: a misspelt condition ("ipin") silently ignored would make a policy
// apply more widely than the admin wrote, so unknown keys are refused.
const conditionsSchema = z.strictObject(
  {
    ipIn: cidrList('Source IP in').optional(),
    ipNotIn: cidrList('Source IP not in').optional(),
    osIn: familyList(osFamilies, 'operating system').optional(),
    browserIn: familyList(browserFamilies, 'browser').optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `Unknown condition: ${issue.keys.join(', ')}.` : 'Conditions must be an object.') },
);

const groupIdList = (what: string) =>
  z
    .array(z.string('Each group id must be text.').min(1, 'A group id cannot be empty.').max(200), `${what} must be a list of group ids.`)
    .max(maxGroupsPerPolicy, `${what}: at most ${maxGroupsPerPolicy} groups.`)
    .transform(distinct);

const fields = {
  name: z
    .string('Name is required.')
    .trim()
    .min(1, 'Name is required.')
    .max(maxPolicyNameLength, `Name is at most ${maxPolicyNameLength} characters.`),
  description: z
    .string('Description must be text.')
    .trim()
    .max(maxPolicyDescriptionLength, `Description is at most ${maxPolicyDescriptionLength} characters.`)
    .nullish()
    .transform((v) => (v ? v : null)),
  enabled: z.boolean('Status must be true (ON) or false (OFF).'),
  scope: z.enum(['all', 'groups'], 'Users must be "all" (All Users) or "groups" (Selected User Groups).'),
  includeGroupIds: groupIdList('Included groups'),
  excludeGroupIds: groupIdList('Excluded groups'),
  conditions: conditionsSchema,
  resources: z
    .array(
      z.string('Each resource must be text.').regex(
        resourceIdPattern,
        `A resource id is 1–64 lowercase letters, digits, dashes and underscores, such as "${portalResource}" (the User Portal).`,
      ),
      'Resources must be a list of resource ids.',
    )
    .min(1, `Choose at least one resource, such as "${portalResource}" (the User Portal).`)
    .max(maxResourcesPerPolicy, `At most ${maxResourcesPerPolicy} resources.`)
    .transform(distinct),
  action: z.enum(['allow', 'require_mfa', 'deny'], 'Action must be "allow", "require_mfa" or "deny".'),
  strength: z
    .enum(authStrengths, 'Strength must be "any" (any second factor) or "phishing_resistant" (WebAuthn only).')
    .meta({ description: 'Require-MFA policies only: "any" second factor, or "phishing_resistant" (WebAuthn security keys and passkeys only).' }),
  reverifyMinutes: z
    .number('Re-verification must be a whole number of minutes, or null.')
    .int('Re-verification must be a whole number of minutes, or null.')
    .min(minReverifyMinutes, reverifyRangeMessage)
    .max(maxReverifyMinutes, reverifyRangeMessage)
    .nullable()
    .meta({ description: 'Require-MFA policies only: a second factor within the last N minutes (5 … 43200, i.e. 30 days), or null for no limit.' }),
  rememberDays: z
    .number(rememberRangeMessage)
    .int(rememberRangeMessage)
    .min(minRememberDays, rememberRangeMessage)
    .max(maxRememberDays, rememberRangeMessage)
    .nullable()
    .meta({
      description:
        'Require-MFA policies only, without a strength or re-verification: after a challenge, people may tick "don\'t ask again on this device" for N days (1 … 90); null: not offered.',
    }),
  // Issue 18 part 6: bounded like an individual enrollment period (R-B2); see 019-policy-grace.ts.
  graceDays: z
    .number(graceRangeMessage)
    .int(graceRangeMessage)
    .min(minGraceDays, graceRangeMessage)
    .max(maxGraceDays, graceRangeMessage)
    .meta({ description: 'Require-MFA policies only: days people who newly enter the scope (join a group, are activated) may still skip enrollment; 0 forces at once. Nobody already in scope gets grace from an edit.' }),
  priority: z
    .number('Priority must be a whole number.')
    .int('Priority must be a whole number.')
    .min(-1_000_000, 'Priority must be between -1,000,000 and 1,000,000.')
    .max(1_000_000, 'Priority must be between -1,000,000 and 1,000,000.'),
};

function unknownKeys(issue: { code?: string; keys?: string[] }): string {
  return issue.code === 'unrecognized_keys' ? `Unknown field: ${(issue.keys ?? []).join(', ')}.` : 'Expected a policy object.';
}

export const createSchema = z.strictObject(
  {
    name: fields.name,
    description: fields.description,
    // New policies start OFF: switching one ON is a deliberate second step (issue 16).
    enabled: fields.enabled.default(false),
    scope: fields.scope.default('all'),
    includeGroupIds: fields.includeGroupIds.default([]),
    excludeGroupIds: fields.excludeGroupIds.default([]),
    conditions: fields.conditions.default({}),
    resources: fields.resources,
    action: fields.action,
    strength: fields.strength.default('any'),
    reverifyMinutes: fields.reverifyMinutes.default(null),
    rememberDays: fields.rememberDays.default(null),
    graceDays: fields.graceDays.default(0),
    priority: fields.priority.default(0),
  },
  { error: unknownKeys },
);

export const patchSchema = z.strictObject(
  {
    name: fields.name.optional(),
    description: fields.description.optional(),
    enabled: fields.enabled.optional(),
    scope: fields.scope.optional(),
    includeGroupIds: fields.includeGroupIds.optional(),
    excludeGroupIds: fields.excludeGroupIds.optional(),
    conditions: fields.conditions.optional(),
    resources: fields.resources.optional(),
    action: fields.action.optional(),
    strength: fields.strength.optional(),
    reverifyMinutes: fields.reverifyMinutes.optional(),
    rememberDays: fields.rememberDays.optional(),
    graceDays: fields.graceDays.optional(),
    priority: fields.priority.optional(),
  },
  { error: unknownKeys },
);

export type NewPolicyInput = z.input<typeof createSchema>;
export type PolicyPatch = z.input<typeof patchSchema>;

/** Strength and re-verification on an allow or deny policy: refused, they would mislead. */
function checkNotAsked(strength: string, reverifyMinutes: number | null, rememberDays: number | null): void {
  const fieldErrors: Record<string, string[]> = {};
  if (strength !== 'any') fieldErrors.strength = ['Only a require-MFA policy has a strength.'];
  if (reverifyMinutes !== null) fieldErrors.reverifyMinutes = ['Only a require-MFA policy can ask for re-verification.'];
  if (rememberDays !== null) fieldErrors.rememberDays = [rememberOnlyRequireMfa];
  if (Object.keys(fieldErrors).length > 0) throw new ValidationError(fieldErrors);
}

/**
 * Issue 18 part 3: "don't ask again on this device" only on a require-MFA policy that asks
 * nothing of the factor's strength or age (those ignore remembered devices, R-D15).
 */
function rememberDaysError(record: PolicyRecord): string | null {
  if ((record.rememberDays ?? null) === null) return null;
  if (record.action !== 'require_mfa') return rememberOnlyRequireMfa;
  if (record.strength === 'phishing_resistant' || (record.reverifyMinutes ?? null) !== null) return rememberIgnoredMessage;
  return null;
}

/** Drops empty condition lists: "no ranges" is the same as no IP condition. */
function normalConditions(conditions: PolicyConditions): PolicyConditions {
  const out: PolicyConditions = {};
  if (conditions.ipIn?.length) out.ipIn = conditions.ipIn;
  if (conditions.ipNotIn?.length) out.ipNotIn = conditions.ipNotIn;
  if (conditions.osIn?.length) out.osIn = conditions.osIn;
  if (conditions.browserIn?.length) out.browserIn = conditions.browserIn;
  return out;
}

/** Rules across fields and against the database: scope vs. groups, groups that exist. */
async function checkRecord(db: Kysely<Database>, record: PolicyRecord): Promise<void> {
  const fieldErrors: Record<string, string[]> = {};
  if (record.scope === 'groups' && record.includeGroupIds.length === 0) {
    fieldErrors.includeGroupIds = ['Choose at least one group when the policy applies to selected user groups.'];
  }
  if (record.scope === 'all' && record.includeGroupIds.length > 0) {
    fieldErrors.includeGroupIds = ['Included groups apply only when the policy is for selected user groups (scope "groups").'];
  }
  for (const key of ['includeGroupIds', 'excludeGroupIds'] as const) {
    const unknown = await findUnknownGroupIds(db, record[key]);
    if (unknown.length > 0) {
      (fieldErrors[key] ??= []).push(`Unknown group${unknown.length > 1 ? 's' : ''}: ${unknown.slice(0, 10).join(', ')}.`);
    }
  }
  if (record.action !== 'require_mfa') {
    // Only a require-MFA policy asks for a second factor; on an allow or deny policy these would mislead.
    if ((record.strength ?? 'any') !== 'any') fieldErrors.strength = ['Only a require-MFA policy has a strength.'];
    if ((record.reverifyMinutes ?? null) !== null) fieldErrors.reverifyMinutes = ['Only a require-MFA policy can ask for re-verification.'];
    if ((record.graceDays ?? 0) !== 0) fieldErrors.graceDays = ['Only a require-MFA policy gives grace days.'];
  } else if (record.strength === 'phishing_resistant') {
    // NOTE: the caller bumped the config version first: that row lock serialises this read
    // with a settings save turning WebAuthn off (saveMfaSettings() locks it the same way).
    const settings = await loadMfaSettings(db);
    if (!settings.webauthn) fieldErrors.strength = [phishingResistantNeedsWebauthn];
  }
  const rememberError = rememberDaysError(record);
  if (rememberError !== null) fieldErrors.rememberDays = [rememberError];
  if (Object.keys(fieldErrors).length > 0) {
    const webauthnMissing = fieldErrors.strength?.[0] === phishingResistantNeedsWebauthn;
    throw new ValidationError(fieldErrors, webauthnMissing ? phishingResistantNeedsWebauthn : undefined);
  }
  // The gate compiles what we store; anything it would refuse must not be saved.
  compilePolicy(record);
}

async function ensureNameFree(db: Kysely<Database>, name: string, selfId: string | null): Promise<void> {
  const holder = await findPolicyIdByName(db, name);
  if (holder !== undefined && holder !== selfId) throw nameTaken(name);
}

function nameTaken(name: string): ConflictError {
  return new ConflictError(`A policy named "${name}" already exists.`, 'name');
}

/**
 * Runs a write and turns a unique-name race (two saves passing ensureNameFree() at once,
 * then meeting at the index on name_lower) into the same ConflictError.
 */
async function withNameRace<T>(name: string | null, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (name !== null && isUniqueViolation(err)) throw nameTaken(name);
    throw err;
  }
}

function audit(trx: Kysely<Database>, actor: Actor, at: number, action: string, policyId: string, details: Record<string, unknown>) {
  return writeAudit(trx, {
    at,
    actorId: actor.id,
    actorLabel: actor.label,
    action,
    targetType: 'policy',
    targetId: policyId,
    details,
    clientIp: actor.clientIp,
  });
}

const policyFields = [
  'name',
  'description',
  'enabled',
  'scope',
  'includeGroupIds',
  'excludeGroupIds',
  'conditions',
  'resources',
  'action',
  'strength',
  'reverifyMinutes',
  'rememberDays',
  'graceDays',
  'priority',
] as const satisfies readonly (keyof PolicyRecord)[];

function summary(record: PolicyRecord) {
  return {
    name: record.name,
    description: record.description,
    enabled: record.enabled,
    scope: record.scope,
    includeGroupIds: record.includeGroupIds,
    excludeGroupIds: record.excludeGroupIds,
    conditions: record.conditions,
    resources: record.resources,
    action: record.action,
    strength: record.strength ?? 'any',
    reverifyMinutes: record.reverifyMinutes ?? null,
    rememberDays: record.rememberDays ?? null,
    graceDays: record.graceDays ?? 0,
    priority: record.priority,
  };
}

/**
 * R-C1..R-C5. Creates a policy (OFF unless `enabled: true`) and returns it as stored.
 * @throws ValidationError (per field), ConflictError when the name is taken (case-insensitive).
 */
export async function createPolicy(db: Kysely<Database>, input: unknown, actor: Actor, clock: Clock): Promise<PolicyRecord> {
  const record = newRecord(input);
  return withNameRace(record.name, () =>
    db.transaction().execute(async (trx) => {
      await bumpConfigVersion(trx); // first: its row lock orders this save against a settings save
      await ensureNameFree(trx, record.name, null);
      await checkRecord(trx, record);
      const now = clock.now();
      await insertPolicy(trx, record, now);
      await audit(trx, actor, now, 'policy.created', record.id, summary(record));
      return record;
    }),
  );
}

/** The record createPolicy() would store, parsed and checked field by field (nothing read yet). */
function newRecord(input: unknown): PolicyRecord {
  const data = parseInput(createSchema, input);
  const record: PolicyRecord = {
    id: randomUUID(),
    name: data.name,
    description: data.description ?? null,
    enabled: data.enabled,
    scope: data.scope,
    includeGroupIds: data.includeGroupIds,
    excludeGroupIds: data.excludeGroupIds,
    conditions: normalConditions(data.conditions),
    resources: data.resources,
    action: data.action,
    strength: data.action === 'require_mfa' ? data.strength : 'any',
    reverifyMinutes: data.action === 'require_mfa' ? data.reverifyMinutes : null,
    rememberDays: data.action === 'require_mfa' ? data.rememberDays : null,
    graceDays: data.action === 'require_mfa' ? data.graceDays : 0,
    priority: data.priority,
  };
  if (data.action !== 'require_mfa') checkNotAsked(data.strength, data.reverifyMinutes, data.rememberDays);
  if (data.action !== 'require_mfa' && data.graceDays !== 0) throw new ValidationError({ graceDays: ['Only a require-MFA policy gives grace days.'] });
  return record;
}

/**
 * Issue 18 (impact preview, dry runs): the policy createPolicy() would store, with every
 * check it makes (name free, groups exist, WebAuthn on for phishing-resistant), writing
 * nothing. The same errors as createPolicy(); the id is a fresh one, not reserved.
 */
export async function draftNewPolicy(db: Kysely<Database>, input: unknown): Promise<PolicyRecord> {
  const record = newRecord(input);
  await ensureNameFree(db, record.name, null);
  await checkRecord(db, record);
  return record;
}

/**
 * Changes the given fields of a policy; the result is checked as a whole. Switching scope
 * to "all" without naming groups clears the included groups.
 */
export async function updatePolicy(
  db: Kysely<Database>,
  id: string,
  patch: unknown,
  actor: Actor,
  clock: Clock,
): Promise<PolicyRecord> {
  const data = parseInput(patchSchema, patch);
  return withNameRace(data.name ?? null, () =>
    db.transaction().execute(async (trx) => {
      const current = await getPolicyById(trx, id);
      if (!current) throw new NotFoundError('policy', [id]);
      const { next, changed } = patched(current, data);
      if (changed.length === 0) return current;

      await bumpConfigVersion(trx); // first: its row lock orders this save against a settings save
      if (next.name.toLowerCase() !== current.name.toLowerCase()) await ensureNameFree(trx, next.name, id);
      await checkRecord(trx, next);
      const now = clock.now();
      await updatePolicyRow(trx, next, now);
      await audit(trx, actor, now, 'policy.updated', id, { name: next.name, changed, after: summary(next) });
      return next;
    }),
  );
}

/** The policy after `data` (a parsed patch), and the fields that differ from `current`. */
function patched(current: PolicyRecord, data: z.output<typeof patchSchema>): { next: PolicyRecord; changed: (keyof PolicyRecord)[] } {
  const next: PolicyRecord = {
    ...current,
    ...(data.name !== undefined && { name: data.name }),
    ...(data.description !== undefined && { description: data.description }),
    ...(data.enabled !== undefined && { enabled: data.enabled }),
    ...(data.scope !== undefined && { scope: data.scope }),
    ...(data.includeGroupIds !== undefined && { includeGroupIds: data.includeGroupIds }),
    ...(data.excludeGroupIds !== undefined && { excludeGroupIds: data.excludeGroupIds }),
    ...(data.conditions !== undefined && { conditions: normalConditions(data.conditions) }),
    ...(data.resources !== undefined && { resources: data.resources }),
    ...(data.action !== undefined && { action: data.action }),
    ...(data.strength !== undefined && { strength: data.strength }),
    ...(data.reverifyMinutes !== undefined && { reverifyMinutes: data.reverifyMinutes }),
    ...(data.rememberDays !== undefined && { rememberDays: data.rememberDays }),
    ...(data.graceDays !== undefined && { graceDays: data.graceDays }),
    ...(data.priority !== undefined && { priority: data.priority }),
  };
  if (data.scope === 'all' && data.includeGroupIds === undefined) next.includeGroupIds = [];
  // Changing the action away from require-MFA drops what only require-MFA asks, unless the
  // same request sets it (then checkRecord() refuses it).
  if (next.action !== 'require_mfa') {
    if (data.strength === undefined) next.strength = 'any';
    if (data.reverifyMinutes === undefined) next.reverifyMinutes = null;
    if (data.rememberDays === undefined) next.rememberDays = null;
    if (data.graceDays === undefined) next.graceDays = 0;
  }

  const changed = policyFields.filter((key) => JSON.stringify(next[key]) !== JSON.stringify(current[key]));
  return { next, changed };
}

/**
 * Issue 18 (impact preview, dry runs): the policy updatePolicy() would store and the fields it
 * would change, with every check it makes, writing nothing. The same errors as updatePolicy().
 */
export async function draftPolicyChange(
  db: Kysely<Database>,
  id: string,
  patch: unknown,
): Promise<{ current: PolicyRecord; next: PolicyRecord; changed: (keyof PolicyRecord)[] }> {
  const data = parseInput(patchSchema, patch);
  const current = await getPolicyById(db, id);
  if (!current) throw new NotFoundError('policy', [id]);
  const { next, changed } = patched(current, data);
  if (changed.length > 0) {
    if (next.name.toLowerCase() !== current.name.toLowerCase()) await ensureNameFree(db, next.name, id);
    await checkRecord(db, next);
  }
  return { current, next, changed };
}

/** R-C1: switches a policy ON or OFF. Setting the current status again changes nothing. */
export async function setPolicyEnabled(
  db: Kysely<Database>,
  id: string,
  enabled: unknown,
  actor: Actor,
  clock: Clock,
): Promise<PolicyRecord> {
  const parsed = fields.enabled.safeParse(enabled);
  if (!parsed.success) throw new ValidationError({ enabled: ['Status must be true (ON) or false (OFF).'] });
  return db.transaction().execute(async (trx) => {
    const current = await getPolicyById(trx, id);
    if (!current) throw new NotFoundError('policy', [id]);
    if (current.enabled === parsed.data) return current;
    await bumpConfigVersion(trx); // first: its row lock orders this change against a settings save
    if (parsed.data && current.action === 'require_mfa' && current.strength === 'phishing_resistant' && !(await loadMfaSettings(trx)).webauthn) {
      throw new ValidationError({ enabled: [phishingResistantNeedsWebauthn] }, phishingResistantNeedsWebauthn);
    }
    const now = clock.now();
    await setPolicyEnabledRow(trx, id, parsed.data, now);
    await audit(trx, actor, now, parsed.data ? 'policy.enabled' : 'policy.disabled', id, { name: current.name });
    return { ...current, enabled: parsed.data };
  });
}

export async function deletePolicy(db: Kysely<Database>, id: string, actor: Actor, clock: Clock): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const current = await getPolicyById(trx, id);
    if (!current) throw new NotFoundError('policy', [id]);
    const now = clock.now();
    await deletePolicyRow(trx, id);
    await bumpConfigVersion(trx);
    await audit(trx, actor, now, 'policy.deleted', id, summary(current));
  });
}

/** Every policy, ordered by priority then name. */
export async function listPolicies(db: Kysely<Database>): Promise<PolicyRecord[]> {
  return loadPolicyRecords(db);
}

/** @throws NotFoundError('policy') */
export async function getPolicy(db: Kysely<Database>, id: string): Promise<PolicyRecord> {
  const record = await getPolicyById(db, id);
  if (!record) throw new NotFoundError('policy', [id]);
  return record;
}
