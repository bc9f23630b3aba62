import { z } from 'zod';
import { listAuditSchema } from '../admin/audit-log';
import { membersSchema, nameSchema } from '../admin/groups';
import { bulkRequireSchema, enrollmentDaysSchema, resetSchema } from '../admin/mfa-requirements';
import { settingsSchema } from '../admin/mfa-settings';
import { createSchema as policyCreateSchema, patchSchema as policyPatchSchema } from '../admin/policies';
import { listUsersSchema } from '../admin/user-directory';
import { roleSchema } from '../admin/user-role';
import { stateSchema } from '../admin/user-state';
import { whatIfSchema } from '../admin/what-if';
import { newUserSchema } from '../admin/users';
import { invalidCursorMessage } from '../admin/cursor';
import { defaultOutboxLimit, mailStatuses, maxOutboxLimit } from '../mail/outbox';

/**
 * What each route accepts, built from the services' own schemas so the two cannot drift.
 * The API is stricter in one way: every object refuses unknown keys, so a field the caller
 * may not set (a user's role, say) is an error rather than silently dropped or, worse, applied.
 * The OpenAPI document is generated from these (lib/api/openapi.ts).
 */

function unknownField(issue: { code?: string; keys?: string[] }): string {
  return issue.code === 'unrecognized_keys' ? `Unknown field: ${(issue.keys ?? []).join(', ')}.` : 'Expected a JSON object.';
}

const userFields = newUserSchema.shape;

/** SPEC G: POST /users {username, email, displayName?, password?, state, invite?}. No role: roles change only by an explicit action. */
export const createUserBody = z.strictObject(
  {
    username: userFields.username,
    email: userFields.email.unwrap().unwrap(),
    displayName: userFields.displayName,
    password: userFields.password,
    state: stateSchema,
    invite: userFields.invite,
  },
  { error: unknownField },
);

/** SPEC G: PATCH /users/{id}. `mfa.enrollmentDays` defaults to 7 when MFA becomes required. */
export const patchUserBody = z.strictObject(
  {
    state: stateSchema.optional(),
    displayName: userFields.displayName,
    email: userFields.email,
    mfa: z
      .strictObject(
        {
          required: z.boolean('Say whether MFA is required: true or false.'),
          enrollmentDays: enrollmentDaysSchema.optional(),
        },
        { error: unknownField },
      )
      .optional(),
  },
  { error: unknownField },
);

/**
 * A service's object schema, made strict with the API's unknown-field message.
 * NOTE: not `.strict()`: that keeps the service's one-message error ("Expected an object."),
 * which then answers an unknown key without naming it, and a client can't tell what to remove.
 */
function strictBody<S extends z.core.$ZodLooseShape>(schema: z.ZodObject<S>) {
  return z.strictObject(schema.shape, { error: unknownField });
}

export const bulkRequireBody = strictBody(bulkRequireSchema);
/** The body may be left out entirely: the default period is 7 days. */
export const resetBody = strictBody(resetSchema);
/** PUT /users/{id}/role: the role alone, nothing else of the user (no mass assignment). */
export const changeRoleBody = z.strictObject({ role: roleSchema }, { error: unknownField });
/** POST /users/{id}/invitation takes no fields. */
export const invitationBody = z.strictObject({}, { error: unknownField });
export const createGroupBody = strictBody(nameSchema);
export const groupMembersBody = strictBody(membersSchema);
export const createPolicyBody = policyCreateSchema;
export const patchPolicyBody = policyPatchSchema;
export const mfaSettingsBody = settingsSchema;
/** Strict already; the IP's syntax is checked by the server only (JSON Schema cannot say it). */
export const whatIfBody = whatIfSchema;

/**
 * Issue 18 §5: `?dryRun=true` on POST /policies and PATCH /policies/{id}: validate as the
 * real call does, answer the policy and its impact, write nothing.
 */
export const policyWriteQuery = z.strictObject(
  {
    dryRun: z
      .boolean('dryRun must be true or false.')
      .optional()
      .meta({ description: 'true: validate and answer the impact preview (users it would deny, force to enroll, challenge); nothing is written or audited.' }),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `Unknown parameter: ${issue.keys.join(', ')}.` : 'Expected query parameters.') },
);

/** Query strings: typed as the services take them; lib/api/query.ts converts the text. */
export const listUsersQuery = listUsersSchema;
export const listAuditQuery = listAuditSchema;

export const listOutboxQuery = z.strictObject(
  {
    status: z.enum(mailStatuses, `Status must be one of: ${mailStatuses.join(', ')}.`).optional(),
    limit: z
      .number('Limit must be a whole number.')
      .int('Limit must be a whole number.')
      .min(1, `Limit must be from 1 to ${maxOutboxLimit}.`)
      .max(maxOutboxLimit, `Limit must be from 1 to ${maxOutboxLimit}.`)
      .default(defaultOutboxLimit),
    cursor: z.string('Cursor must be text.').max(200, invalidCursorMessage).optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `Unknown filter: ${issue.keys.join(', ')}.` : 'Expected list options.') },
);

/** Path ids: anything longer cannot be one of ours and is a 404 without a query. */
export const maxIdLength = 200;
