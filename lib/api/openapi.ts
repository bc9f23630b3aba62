import { z } from 'zod';
import { enrollmentDaysSchema } from '../admin/mfa-requirements';
import { defaultEnrollmentDays, maxEnrollmentDays, minEnrollmentDays } from '../policy';
import { problemContentType } from './problem';
import { apiKeyRoles, can, type Permission } from '../admin/permissions';
import { apiBasePath, routes, type RouteSpec } from './routes';

/**
 * The OpenAPI 3.1 document of /api/v1, generated from the route table and the very zod
 * schemas the handlers validate with (z.toJSONSchema, input side). Checks that JSON Schema
 * cannot say (distinct ids, CIDR syntax, R-A2) are still enforced by the server.
 */

type JsonSchema = Record<string, unknown>;

/** zod checks written as code, given their JSON Schema by hand. */
const customSchemas = new Map<unknown, JsonSchema>([
  [
    (enrollmentDaysSchema as unknown as { _zod: { def: { innerType: unknown } } })._zod.def.innerType,
    {
      type: 'integer',
      minimum: minEnrollmentDays,
      maximum: maxEnrollmentDays,
      description: `Enrollment period in whole days, ${minEnrollmentDays}–${maxEnrollmentDays} (default ${defaultEnrollmentDays}).`,
    },
  ],
]);

/** The JSON Schema of what `schema` accepts. */
export function requestJsonSchema(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    override: (ctx) => {
      const custom = customSchemas.get(ctx.zodSchema);
      if (custom) Object.assign(ctx.jsonSchema, custom);
    },
  }) as JsonSchema;
  delete out.$schema;
  return out;
}

const problemSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details.',
  properties: {
    type: { type: 'string', description: 'urn:portcullis:problem:<kind>' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: {
      type: 'object',
      description: 'Per-field messages; "_" for the body as a whole, dotted paths for nested fields.',
      additionalProperties: { type: 'array', items: { type: 'string' } },
    },
    resource: { type: 'string', description: '404: what was not found.' },
    unknownIds: { type: 'array', items: { type: 'string' }, description: '404: the unknown ids (bulk changes: nothing changed).' },
  },
  required: ['type', 'title', 'status'],
};

const problemDescriptions: Record<number, string> = {
  400: 'Invalid input: malformed JSON, a wrong type or value, a refused rule, a bad cursor',
  401: 'No API key, or an unknown or revoked one (cookies are never accepted)',
  403: 'A read-only key on a change',
  404: 'Unknown id (for lists of ids in a body: nothing changed)',
  409: 'A conflict: the name is taken, or the user cannot take this change (e.g. a password reset without an email address)',
  413: 'The body is over the size limit',
  415: 'The body is not application/json',
  500: 'Unexpected server error',
  503: 'The database is unavailable',
};

function problemResponse(status: number) {
  return { description: problemDescriptions[status] ?? 'Error', content: { [problemContentType]: { schema: { $ref: '#/components/schemas/Problem' } } } };
}

function operationId(spec: RouteSpec<any, any>): string {
  const words = spec.path
    .split('/')
    .filter(Boolean)
    .map((part) => (part.startsWith('{') ? 'ById' : part.replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))));
  return [spec.method.toLowerCase(), ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('');
}

function parametersOf(spec: RouteSpec<any, any>): JsonSchema[] {
  const params: JsonSchema[] = [];
  for (const match of spec.path.matchAll(/\{([^}]+)\}/g)) {
    params.push({ name: match[1], in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 200 } });
  }
  if (spec.query) {
    const schema = requestJsonSchema(spec.query);
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
      params.push({ name, in: 'query', required: required.has(name), schema: property });
    }
  }
  return params;
}

/** "admin", "helpdesk or admin": the key roles with the permission (lib/admin/permissions.ts). */
function keyRolesFor(permission: Permission): string {
  const roles = apiKeyRoles.filter((role) => can(role, permission));
  return roles.length === 1 ? roles[0]! : `${roles.slice(0, -1).join(', ')} or ${roles[roles.length - 1]}`;
}

export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of Object.values(routes) as RouteSpec<any, any>[]) {
    const responses: Record<string, unknown> = {
      [String(spec.success.status)]: {
        description: spec.success.description,
        ...(spec.success.status === 204 ? {} : { content: { 'application/json': { schema: { type: 'object' } } } }),
      },
    };
    if (spec.alsoSuccess) {
      responses[String(spec.alsoSuccess.status)] = { description: spec.alsoSuccess.description, content: { 'application/json': { schema: { type: 'object' } } } };
    }
    const statuses = new Set(spec.problems);
    if (spec.permission !== 'public') statuses.add(401);
    // Every permission is refused to some key role (read keys have no writes, helpdesk keys no groups).
    if (spec.permission !== 'public') statuses.add(403);
    statuses.add(500);
    if (spec.permission !== 'public') statuses.add(503);
    for (const status of [...statuses].sort()) responses[String(status)] = problemResponse(status);
    const parameters = parametersOf(spec);
    (paths[spec.path] ??= {})[spec.method.toLowerCase()] = {
      operationId: operationId(spec),
      summary: spec.summary,
      tags: [spec.tag],
      security: spec.permission === 'public' ? [] : [{ apiKey: [] }],
      ...(spec.permission === 'public' ? {} : { description: `Needs an API key with the role ${keyRolesFor(spec.permission)}.` }),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(spec.body
        ? {
            requestBody: {
              required: !spec.bodyOptional,
              content: { 'application/json': { schema: requestJsonSchema(spec.body) } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Portcullis admin API',
      version: '1',
      description: [
        'Bearer API keys only (`Authorization: Bearer pcl_…`); cookies are ignored. Keys with the `read` role may only GET.',
        'Times are RFC 3339 UTC strings. Lists are keyset-paginated: pass `nextCursor` back as `cursor`.',
        'Errors are application/problem+json (RFC 9457) with per-field `errors`; invalid input is always 400.',
        'Bodies are limited to 64 KiB (1 MiB for lists of user ids).',
      ].join('\n\n'),
    },
    servers: [{ url: apiBasePath }],
    paths,
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key created in the console or with `npm run cli -- create-api-key`.' } },
      schemas: { Problem: problemSchema },
    },
  };
}
