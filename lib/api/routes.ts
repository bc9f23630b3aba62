import type { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { ApiKeyRow } from '../../db/queries/api-keys';
import type { Actor } from '../admin/actor';
import type { Permission } from '../admin/permissions';
import { changeUserRole } from '../admin/user-role';
import { listAudit } from '../admin/audit-log';
import { createGroup, listGroups, setGroupMembers } from '../admin/groups';
import { requireMfaForUsers, resetTotpEnrollment } from '../admin/mfa-requirements';
import { getMfaSettings, saveMfaSettings } from '../admin/mfa-settings';
import { createPolicy, deletePolicy, getPolicy, listPolicies, updatePolicy } from '../admin/policies';
import { whatIf } from '../admin/what-if';
import { dryRunCreatePolicy, dryRunUpdatePolicy } from '../admin/policy-impact';
import { sendPasswordReset } from '../admin/password-reset';
import { getUserDetail, listUsers } from '../admin/user-directory';
import { updateUser } from '../admin/user-update';
import { createUser } from '../admin/users';
import { resendInvitation } from '../admin/invitations';
import { listOutbox } from '../mail/outbox';
import type { Clock } from '../clock';
import { bulkMaxBodyBytes } from './body';
import {
  bulkRequireBody,
  changeRoleBody,
  createGroupBody,
  createPolicyBody,
  createUserBody,
  invitationBody,
  groupMembersBody,
  listAuditQuery,
  listOutboxQuery,
  listUsersQuery,
  mfaSettingsBody,
  patchPolicyBody,
  patchUserBody,
  policyWriteQuery,
  resetBody,
  whatIfBody,
} from './schemas';
import { jsonResponse } from './wire';

/**
 * The /api/v1 routes (SPEC G) as data: method, path, who may call, what they take, and a
 * handler that calls the admin services (which validate, audit and use transactions; no
 * SQL here). lib/api/handler.ts adds authentication, body and query parsing and error
 * mapping around each; lib/api/openapi.ts documents the same table.
 */

export const apiBasePath = '/api/v1';

/** Reads the outbox; lib/mail/outbox.ts listOutbox() unless a test passes its own. */
export type OutboxLister = (
  db: Kysely<Database>,
  input: { status?: string; limit: number; cursor?: string },
) => Promise<{ messages: unknown[]; nextCursor: string | null }>;

export interface ApiDeps {
  /** The database; the app passes getDb(), tests their own. */
  db: () => Promise<Kysely<Database>>;
  clock: Clock;
  /** Seals a new Duo client secret for storage (PUT /settings/mfa). */
  sealDuoSecret: (plain: string) => string | Promise<string>;
  /** Defaults to lib/mail/outbox.ts listOutbox(). */
  listOutbox?: OutboxLister;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/**
 * Who may call: "public" needs no key; otherwise a live key whose role has the permission
 * (lib/admin/permissions.ts, the table the console asks too).
 */
export type RoutePermission = Permission | 'public';

export interface HandlerContext<B, Q> {
  db: Kysely<Database>;
  clock: Clock;
  deps: ApiDeps;
  request: Request;
  /** null only on public routes. */
  key: ApiKeyRow | null;
  actor: Actor;
  params: Record<string, string>;
  /** The validated body (schema output); `raw` is what the client sent, for the services. */
  body: B;
  raw: unknown;
  /** The query as typed input for the list services (already validated). */
  query: Q;
}

export interface RouteSpec<B extends z.ZodType | undefined = z.ZodType | undefined, Q extends z.ZodObject | undefined = z.ZodObject | undefined> {
  method: HttpMethod;
  /** OpenAPI style: /users/{id}. */
  path: string;
  summary: string;
  tag: string;
  permission: RoutePermission;
  body?: B;
  /** An absent body counts as `{}`. */
  bodyOptional?: boolean;
  maxBodyBytes?: number;
  query?: Q;
  success: { status: number; description: string };
  /** Another success answer, such as a dry run's 200 beside a create's 201. */
  alsoSuccess?: { status: number; description: string };
  /** Problem statuses this route may answer with, besides 401/403/500/503. */
  problems: number[];
  handle(
    ctx: HandlerContext<B extends z.ZodType ? z.output<B> : undefined, Q extends z.ZodObject ? z.input<Q> : undefined>,
  ): Promise<Response>;
}

function route<B extends z.ZodType | undefined = undefined, Q extends z.ZodObject | undefined = undefined>(
  spec: RouteSpec<B, Q>,
): RouteSpec<B, Q> {
  return spec;
}

function location(path: string): Record<string, string> {
  return { location: `${apiBasePath}${path}` };
}

const bodyProblems = [400, 413, 415];

export const routes = {
  'GET /users': route({
    method: 'GET',
    path: '/users',
    summary: 'List users with their MFA status (R-F1, R-F2); keyset pages',
    tag: 'users',
    permission: 'users.view',
    query: listUsersQuery,
    success: { status: 200, description: 'A page of users and the cursor of the next one' },
    problems: [400],
    handle: async (ctx) => jsonResponse(200, await listUsers(ctx.db, ctx.query, ctx.clock)),
  }),
  'POST /users': route({
    method: 'POST',
    path: '/users',
    summary: 'Create a user',
    tag: 'users',
    permission: 'users.create',
    body: createUserBody,
    success: { status: 201, description: 'The new user' },
    problems: [...bodyProblems, 409],
    handle: async (ctx) => {
      const { id } = await createUser(ctx.db, ctx.raw, ctx.actor, ctx.clock);
      return jsonResponse(201, await getUserDetail(ctx.db, id, ctx.clock), location(`/users/${id}`));
    },
  }),
  'GET /users/{id}': route({
    method: 'GET',
    path: '/users/{id}',
    summary: 'One user with MFA status, factors and groups (R-F3)',
    tag: 'users',
    permission: 'users.view',
    success: { status: 200, description: 'The user' },
    problems: [404],
    handle: async (ctx) => jsonResponse(200, await getUserDetail(ctx.db, ctx.params.id!, ctx.clock)),
  }),
  'PATCH /users/{id}': route({
    method: 'PATCH',
    path: '/users/{id}',
    summary: "Change a user's state, profile or MFA requirement (R-B1, R-B4)",
    tag: 'users',
    permission: 'users.edit',
    body: patchUserBody,
    success: { status: 200, description: 'The user after the change' },
    problems: [...bodyProblems, 404],
    handle: async (ctx) => {
      const id = ctx.params.id!;
      await updateUser(ctx.db, id, ctx.raw, ctx.actor, ctx.clock);
      return jsonResponse(200, await getUserDetail(ctx.db, id, ctx.clock));
    },
  }),
  'POST /users/mfa/require': route({
    method: 'POST',
    path: '/users/mfa/require',
    summary: 'Require MFA on the User Portal for many users (R-B2); all-or-nothing',
    tag: 'users',
    permission: 'users.edit',
    body: bulkRequireBody,
    maxBodyBytes: bulkMaxBodyBytes,
    success: { status: 200, description: 'What changed: the period, and whose period started' },
    problems: [...bodyProblems, 404],
    handle: async (ctx) => {
      const result = await requireMfaForUsers(ctx.db, ctx.raw, ctx.actor, ctx.clock);
      return jsonResponse(200, result);
    },
  }),
  'POST /users/{id}/invitation': route({
    method: 'POST',
    path: '/users/{id}/invitation',
    summary: 'Send a new invitation to set a password (the older link stops working); only before the user has set one',
    tag: 'users',
    permission: 'users.send_invitation',
    body: invitationBody,
    bodyOptional: true,
    success: { status: 200, description: 'When the new link expires (null for a staged user: it starts at activation), and whether a message was queued' },
    problems: [...bodyProblems, 404, 409],
    handle: async (ctx) => jsonResponse(200, await resendInvitation(ctx.db, ctx.params.id!, ctx.actor, ctx.clock)),
  }),
  'POST /users/{id}/mfa/reset': route({
    method: 'POST',
    path: '/users/{id}/mfa/reset',
    summary: 'Reset TOTP (enrolled or expired users): remove TOTP factors and start a new enrollment period, requiring MFA if it was not (R-F4)',
    tag: 'users',
    permission: 'users.reset_totp',
    body: resetBody,
    bodyOptional: true,
    success: { status: 200, description: 'The new period, the TOTP devices removed, and whether MFA became required and the recovery codes went' },
    problems: [...bodyProblems, 404],
    handle: async (ctx) => {
      const result = await resetTotpEnrollment(ctx.db, ctx.params.id!, ctx.raw ?? {}, ctx.actor, ctx.clock);
      return jsonResponse(200, result);
    },
  }),
  'POST /users/{id}/password-reset': route({
    method: 'POST',
    path: '/users/{id}/password-reset',
    summary: "Send a password reset link (30 minutes, single-use) to the user's own email address; the link is never returned (ASVS 6.4.6)",
    tag: 'users',
    permission: 'users.send_password_reset',
    success: { status: 202, description: 'The link is queued to the address in `sentTo`' },
    problems: [404, 409],
    handle: async (ctx) => jsonResponse(202, await sendPasswordReset(ctx.db, ctx.params.id!, ctx.actor, ctx.clock)),
  }),
  'PUT /users/{id}/role': route({
    method: 'PUT',
    path: '/users/{id}/role',
    summary: "Give a user a role: user, helpdesk or admin (audited; the last admin cannot be demoted)",
    tag: 'users',
    permission: 'users.change_role',
    body: changeRoleBody,
    success: { status: 200, description: 'The user after the change' },
    problems: [...bodyProblems, 404, 409],
    handle: async (ctx) => {
      const id = ctx.params.id!;
      await changeUserRole(ctx.db, id, ctx.body.role, ctx.actor, ctx.clock);
      return jsonResponse(200, await getUserDetail(ctx.db, id, ctx.clock));
    },
  }),
  'GET /groups': route({
    method: 'GET',
    path: '/groups',
    summary: 'List groups with member counts',
    tag: 'groups',
    permission: 'groups.view',
    success: { status: 200, description: 'Every group, by name' },
    problems: [],
    handle: async (ctx) => jsonResponse(200, { groups: await listGroups(ctx.db) }),
  }),
  'POST /groups': route({
    method: 'POST',
    path: '/groups',
    summary: 'Create a group',
    tag: 'groups',
    permission: 'groups.manage',
    body: createGroupBody,
    success: { status: 201, description: 'The new group' },
    problems: [...bodyProblems, 409],
    handle: async (ctx) => {
      const group = await createGroup(ctx.db, ctx.raw, ctx.actor, ctx.clock);
      return jsonResponse(201, group, location(`/groups/${group.id}`));
    },
  }),
  'PUT /groups/{id}/members': route({
    method: 'PUT',
    path: '/groups/{id}/members',
    summary: "Replace a group's members; all-or-nothing",
    tag: 'groups',
    permission: 'groups.manage',
    body: groupMembersBody,
    maxBodyBytes: bulkMaxBodyBytes,
    success: { status: 200, description: 'Member counts after the change' },
    problems: [...bodyProblems, 404],
    handle: async (ctx) => jsonResponse(200, await setGroupMembers(ctx.db, ctx.params.id!, ctx.raw, ctx.actor, ctx.clock)),
  }),
  'GET /policies': route({
    method: 'GET',
    path: '/policies',
    summary: 'List conditional access policies',
    tag: 'policies',
    permission: 'policies.view',
    success: { status: 200, description: 'Every policy, by priority then name' },
    problems: [],
    handle: async (ctx) => jsonResponse(200, { policies: await listPolicies(ctx.db) }),
  }),
  'POST /policies': route({
    method: 'POST',
    path: '/policies',
    summary: 'Create a conditional access policy (R-C1..R-C5); with ?dryRun=true, only validate it and preview its impact',
    tag: 'policies',
    permission: 'policies.manage',
    body: createPolicyBody,
    query: policyWriteQuery,
    success: { status: 201, description: 'The policy as stored' },
    alsoSuccess: { status: 200, description: 'dryRun=true: the policy as it would be stored and its impact (nothing written)' },
    problems: [...bodyProblems, 409],
    handle: async (ctx) => {
      if (ctx.query.dryRun === true) return jsonResponse(200, await dryRunCreatePolicy(ctx.db, ctx.raw, ctx.clock));
      const policy = await createPolicy(ctx.db, ctx.raw, ctx.actor, ctx.clock);
      return jsonResponse(201, policy, location(`/policies/${policy.id}`));
    },
  }),
  'GET /policies/{id}': route({
    method: 'GET',
    path: '/policies/{id}',
    summary: 'One policy',
    tag: 'policies',
    permission: 'policies.view',
    success: { status: 200, description: 'The policy' },
    problems: [404],
    handle: async (ctx) => jsonResponse(200, await getPolicy(ctx.db, ctx.params.id!)),
  }),
  'PATCH /policies/{id}': route({
    method: 'PATCH',
    path: '/policies/{id}',
    summary: 'Change fields of a policy, including switching it ON or OFF; with ?dryRun=true, only validate the change and preview its impact',
    tag: 'policies',
    permission: 'policies.manage',
    body: patchPolicyBody,
    query: policyWriteQuery,
    success: { status: 200, description: 'The policy after the change; with dryRun=true, the policy as it would be, the fields that would change and its impact (nothing written)' },
    problems: [...bodyProblems, 404, 409],
    handle: async (ctx) =>
      ctx.query.dryRun === true
        ? jsonResponse(200, await dryRunUpdatePolicy(ctx.db, ctx.params.id!, ctx.raw, ctx.clock))
        : jsonResponse(200, await updatePolicy(ctx.db, ctx.params.id!, ctx.raw, ctx.actor, ctx.clock)),
  }),
  'DELETE /policies/{id}': route({
    method: 'DELETE',
    path: '/policies/{id}',
    summary: 'Delete a policy',
    tag: 'policies',
    permission: 'policies.manage',
    success: { status: 204, description: 'Deleted' },
    problems: [404],
    handle: async (ctx) => {
      await deletePolicy(ctx.db, ctx.params.id!, ctx.actor, ctx.clock);
      return jsonResponse(204, null);
    },
  }),
  'POST /policies/what-if': route({
    method: 'POST',
    path: '/policies/what-if',
    summary:
      'What if: the decision the gate would make for a user on a resource from an IP, OS and browser at a time (default now), and for every policy why it did or did not apply, criterion by criterion. The session assumed is a sign-in at that time with the password only, or also with `secondFactor`. Writes nothing.',
    tag: 'policies',
    // NOTE: it writes nothing, but reads any user's groups and factors beside the policies.
    permission: 'policies.what_if',
    body: whatIfBody,
    success: { status: 200, description: 'The decision, the rule and policy that made it, and every policy with its criteria' },
    problems: [...bodyProblems, 404],
    handle: async (ctx) => jsonResponse(200, await whatIf(ctx.db, ctx.raw, ctx.clock)),
  }),
  'GET /settings/mfa': route({
    method: 'GET',
    path: '/settings/mfa',
    summary: 'Org MFA settings (R-A1); never the Duo secret',
    tag: 'settings',
    permission: 'settings.view',
    success: { status: 200, description: 'The settings' },
    problems: [],
    handle: async (ctx) => jsonResponse(200, await getMfaSettings(ctx.db)),
  }),
  'PUT /settings/mfa': route({
    method: 'PUT',
    path: '/settings/mfa',
    summary: 'Save org MFA settings (R-A1, R-A2)',
    tag: 'settings',
    permission: 'settings.manage',
    body: mfaSettingsBody,
    success: { status: 200, description: 'The settings as saved' },
    problems: bodyProblems,
    handle: async (ctx) =>
      jsonResponse(200, await saveMfaSettings(ctx.db, ctx.raw, ctx.actor, ctx.clock, { sealSecret: ctx.deps.sealDuoSecret })),
  }),
  'GET /audit': route({
    method: 'GET',
    path: '/audit',
    summary: 'The audit log, newest first; filters by actor, action and target',
    tag: 'audit',
    permission: 'audit.view',
    query: listAuditQuery,
    success: { status: 200, description: 'A page of entries and the cursor of the next one' },
    problems: [400],
    handle: async (ctx) => jsonResponse(200, await listAudit(ctx.db, ctx.query)),
  }),
  'GET /outbox': route({
    method: 'GET',
    path: '/outbox',
    summary: 'Emails queued or sent (R-B5)',
    tag: 'outbox',
    permission: 'outbox.view',
    query: listOutboxQuery,
    success: { status: 200, description: 'A page of messages and the cursor of the next one' },
    problems: [400],
    handle: async (ctx) => {
      const list = ctx.deps.listOutbox ?? listOutbox;
      return jsonResponse(200, await list(ctx.db, listOutboxQuery.parse(ctx.query)));
    },
  }),
  'GET /openapi.json': route({
    method: 'GET',
    path: '/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'meta',
    permission: 'public',
    success: { status: 200, description: 'The document' },
    problems: [],
    handle: async () => {
      // Imported here: the document is built from this table.
      const { openApiDocument } = await import('./openapi');
      return new Response(JSON.stringify(openApiDocument()), {
        headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
      });
    },
  }),
} satisfies Record<string, RouteSpec<any, any>>;

export type RouteKey = keyof typeof routes;
