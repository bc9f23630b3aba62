import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../lib/api/openapi';
import { can } from '../../../lib/admin/permissions';
import { routes, type RouteKey } from '../../../lib/api/routes';
import { listUsersQuery, policyWriteQuery } from '../../../lib/api/schemas';
import { queryToInput } from '../../../lib/api/query';
import { createApiHandlers } from '../../../lib/api/handler';
import { manualClock } from '../../../lib/clock';
import { accepts } from './json-schema-check';

const root = path.resolve(import.meta.dirname, '../../..');
const apiDir = path.join(root, 'app/api/v1');
const httpMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const doc = openApiDocument() as { paths: Record<string, Record<string, any>> } & Record<string, any>;

/** "users/[id]/mfa/reset/route.ts" → "/users/{id}/mfa/reset" */
function routeFiles(): { file: string; path: string }[] {
  return (fs.readdirSync(apiDir, { recursive: true }) as string[])
    .filter((f) => path.basename(f) === 'route.ts')
    .map((f) => ({
      file: path.join(apiDir, f),
      path: '/' + path.dirname(f).split(path.sep).filter((p) => p !== '.').map((p) => p.replace(/^\[(.+)\]$/, '{$1}')).join('/'),
    }));
}

describe('the OpenAPI document matches the handlers', () => {
  it('is OpenAPI 3.1 and served by GET /openapi.json', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const handlers = createApiHandlers({ db: () => Promise.reject(new Error('not needed')), clock: manualClock(0), sealDuoSecret: (s) => s });
    const response = await handlers['GET /openapi.json'](new Request('https://mfa.example.test/api/v1/openapi.json'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('documents exactly the methods the route files export, each bound to its own route', async () => {
    const fromFiles: string[] = [];
    for (const { file, path: routePath } of routeFiles()) {
      const mod = (await import(file)) as Record<string, unknown>;
      for (const method of httpMethods) {
        const handler = mod[method] as { routeKey?: RouteKey } | undefined;
        if (!handler) continue;
        expect(handler.routeKey, `${file} ${method}`).toBe(`${method} ${routePath}`);
        fromFiles.push(`${method} ${routePath}`);
      }
    }
    const fromDoc = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(fromFiles.sort()).toEqual(fromDoc.sort());
    expect(Object.keys(routes).sort()).toEqual(fromDoc.sort());
  });

  it('marks every route but the document itself as needing a key, writes as refused to read keys, and names the roles', () => {
    for (const [key, spec] of Object.entries(routes)) {
      const op = doc.paths[spec.path]![spec.method.toLowerCase()]!;
      expect(op.security, key).toEqual(spec.permission === 'public' ? [] : [{ apiKey: [] }]);
      if (spec.permission === 'public') continue;
      if (spec.method !== 'GET') expect(can('read', spec.permission), key).toBe(false);
      expect(Object.keys(op.responses), key).toEqual(expect.arrayContaining(['401', '403']));
      expect(op.description, key).toMatch(/^Needs an API key with the role (admin|[a-z, ]+ or admin)\.$/);
    }
  });

  const uuid = '00000000-0000-4000-8000-000000000001';
  /** For each route with a body: samples that must be accepted (true) or refused (false). */
  const samples: Partial<Record<RouteKey, [unknown, boolean][]>> = {
    'POST /users': [
      [{ username: 'ada', email: 'ada@example.org', state: 'active' }, true],
      [{ username: 'ada', email: 'ada@example.org', state: 'staged', displayName: null, password: 'long enough passphrase' }, true],
      [{ username: 'ada', email: 'ada@example.org', state: 'active', role: 'admin' }, false],
      [{ username: 'ada', state: 'active' }, false],
      [{ username: 'ada', email: 'ada@example.org', state: 'deleted' }, false],
      [{ username: 'bad name', email: 'ada@example.org', state: 'active' }, false],
      [{ username: 'ada', email: 'ada@example.org', state: 'active', password: 'short' }, false],
      [{ username: 'ivy', email: 'ivy@example.org', state: 'staged', invite: true }, true],
      [{ username: 'ivy', email: 'ivy@example.org', state: 'active', invite: 'yes' }, false],
      [[], false],
    ],
    'PUT /users/{id}/role': [
      [{ role: 'helpdesk' }, true],
      [{ role: 'admin' }, true],
      [{ role: 'user' }, true],
      [{ role: 'root' }, false],
      [{}, false],
      [{ role: 'admin', state: 'active' }, false],
    ],
    'PATCH /users/{id}': [
      [{}, true],
      [{ state: 'suspended', displayName: 'Ada', email: null }, true],
      [{ mfa: { required: true } }, true],
      [{ mfa: { required: true, enrollmentDays: 365 } }, true],
      [{ mfa: { required: true, enrollmentDays: 0 } }, false],
      [{ mfa: { required: true, enrollmentDays: 366 } }, false],
      [{ mfa: { required: true, enrollmentDays: 7.5 } }, false],
      [{ mfa: { required: true, enrollmentDays: 'seven' } }, false],
      [{ mfa: { enrollmentDays: 7 } }, false],
      [{ role: 'admin' }, false],
      [{ mfa: { required: true, periodEndsAt: 0 } }, false],
    ],
    'POST /users/mfa/require': [
      [{ userIds: [uuid] }, true],
      [{ userIds: [uuid], enrollmentDays: 1 }, true],
      [{ userIds: [uuid], enrollmentDays: 0 }, false],
      [{ userIds: [uuid], enrollmentDays: 366 }, false],
      [{ userIds: [uuid], enrollmentDays: 7.5 }, false],
      [{ userIds: [uuid], enrollmentDays: 'seven' }, false],
      [{ enrollmentDays: 7 }, false],
      [{ userIds: [] }, false],
      [{ userIds: [''] }, false],
      [{ userIds: [uuid], extra: true }, false],
    ],
    'POST /users/{id}/invitation': [
      [{}, true],
      [{ expiresInDays: 3 }, false],
    ],
    'POST /users/{id}/mfa/reset': [
      [{}, true],
      [{ enrollmentDays: 30 }, true],
      [{ enrollmentDays: 0 }, false],
      [{ enrollmentDays: 366 }, false],
      [{ enrollmentDays: 7.5 }, false],
      [{ enrollmentDays: 'seven' }, false],
      [{ days: 7 }, false],
    ],
    'POST /groups': [
      [{ name: 'Finance' }, true],
      [{}, false],
      [{ name: '' }, false],
      [{ name: 'x'.repeat(101) }, false],
      [{ name: 'Finance', id: uuid }, false],
    ],
    'PUT /groups/{id}/members': [
      [{ userIds: [] }, true],
      [{ userIds: [uuid] }, true],
      [{}, false],
      [{ userIds: uuid }, false],
      [{ userIds: [1] }, false],
    ],
    'POST /policies': [
      [{ name: 'Deny contractors', resources: ['portal'], action: 'deny' }, true],
      [{ name: 'MFA off-site', description: null, enabled: false, scope: 'all', conditions: { ipNotIn: ['10.0.0.0/8'], osIn: ['windows'] }, resources: ['portal', 'demo'], action: 'require_mfa', priority: -5 }, true],
      [{ name: 'x', resources: ['portal'], action: 'maybe' }, false],
      [{ name: 'x', resources: [], action: 'deny' }, false],
      [{ name: 'x', resources: ['Portal!'], action: 'deny' }, false],
      [{ name: 'x', resources: ['portal'], action: 'deny', conditions: { ipin: [] } }, false],
      [{ name: 'x', resources: ['portal'], action: 'deny', conditions: { osIn: ['beos'] } }, false],
      [{ name: 'x', resources: ['portal'], action: 'deny', priority: 1.5 }, false],
      [{ resources: ['portal'], action: 'deny' }, false],
      [{ name: 'x', resources: ['portal'], action: 'deny', colour: 'red' }, false],
    ],
    'PATCH /policies/{id}': [
      [{}, true],
      [{ enabled: false }, true],
      [{ name: 'Renamed', scope: 'groups', includeGroupIds: [uuid] }, true],
      [{ enabled: 'no' }, false],
      [{ id: uuid }, false],
    ],
    'POST /policies/what-if': [
      [{ user: { username: 'nils' }, resource: 'demo', ip: '203.0.113.9', os: 'windows', browser: 'chrome' }, true],
      [{ user: { id: uuid }, resource: 'portal', ip: 'unknown', os: 'other', browser: 'other', at: '2026-11-02T09:00:00Z', secondFactor: 'webauthn' }, true],
      [{ user: { id: uuid, username: 'nils' }, resource: 'portal', ip: '10.0.0.1', os: 'linux', browser: 'firefox' }, false],
      [{ user: 'nils', resource: 'portal', ip: '10.0.0.1', os: 'linux', browser: 'firefox' }, false],
      [{ user: { username: 'nils' }, resource: 'portal', ip: '10.0.0.1', os: 'beos', browser: 'firefox' }, false],
      [{ user: { username: 'nils' }, resource: 'portal', ip: '10.0.0.1', os: 'linux', browser: 'firefox', secondFactor: 'sms' }, false],
      [{ user: { username: 'nils' }, resource: 'portal', ip: '10.0.0.1', os: 'linux', browser: 'firefox', at: 'yesterday' }, false],
      [{ user: { username: 'nils' }, resource: 'portal', os: 'linux', browser: 'firefox' }, false],
      [{ user: { username: 'nils' }, resource: 'portal', ip: '10.0.0.1', os: 'linux', browser: 'firefox', session: 'aal2' }, false],
    ],
    'PUT /settings/mfa': [
      [{ totp: true, webauthn: false, duo: false }, true],
      [{ totp: true, webauthn: true, duo: true, duoConfig: { clientId: 'D'.repeat(20), clientSecret: 's'.repeat(40), apiHost: 'api-1.duosecurity.com', redirectUri: 'https://a.example/cb' } }, true],
      [{ totp: true, webauthn: false, duo: false, duoConfig: { clientId: '' } }, true],
      // What GET returns goes back as it is (a client round-trips the document); R-D11's switch is documented.
      [{ totp: true, webauthn: false, duo: false, challengeEnrolled: false, duoConfig: { clientId: null, apiHost: null, redirectUri: null, hasSecret: false }, updatedAt: null }, true],
      [{ totp: true, webauthn: false, duo: false, challengeEnrolled: 'on' }, false],
      [{ totp: true, webauthn: false }, false],
      [{ totp: 'yes', webauthn: false, duo: false }, false],
      [{ totp: true, webauthn: false, duo: false, sms: true }, false],
      [{ totp: true, webauthn: false, duo: false, duoConfig: { clientId: 'short' } }, false],
      [{ totp: true, webauthn: false, duo: false, duoConfig: { region: 'eu' } }, false],
    ],
  };

  const bodyRoutes = (Object.keys(routes) as RouteKey[]).filter((key) => 'body' in routes[key]);

  it('has samples for every route that takes a body', () => {
    expect(Object.keys(samples).sort()).toEqual(bodyRoutes.sort());
  });

  it.each(bodyRoutes)('%s: the document and the validator accept and refuse the same bodies', (key) => {
    const spec = routes[key] as { path: string; method: string; body: { safeParse(v: unknown): { success: boolean } } };
    const schema = doc.paths[spec.path]![spec.method.toLowerCase()]!.requestBody.content['application/json'].schema;
    for (const [body, expected] of samples[key]!) {
      const label = `${key} ${JSON.stringify(body)}`;
      expect(spec.body.safeParse(body).success, `validator: ${label}`).toBe(expected);
      expect(accepts(schema, body), `document: ${label}`).toBe(expected);
    }
  });

  it('GET /users: the documented query parameters accept and refuse the same values as the handler', () => {
    const params = doc.paths['/users']!.get.parameters as { name: string; schema: Record<string, unknown> }[];
    const byName = Object.fromEntries(params.map((p) => [p.name, p.schema]));
    const cases: [string, boolean][] = [
      ['limit=1', true],
      ['limit=200', true],
      ['limit=0', false],
      ['limit=201', false],
      ['limit=7.5', false],
      ['limit=seven', false],
      ['required=true', true],
      ['required=yes', false],
      ['mfaStatus=pre_enrollment', true],
      ['mfaStatus=inactive', false],
      ['sort=newest', true],
      ['sort=email', false],
      ['state=suspended', true],
      [`q=${'a'.repeat(100)}`, true],
      [`q=${'a'.repeat(101)}`, false],
    ];
    for (const [query, expected] of cases) {
      const input = queryToInput(new URL(`https://x.test/api/v1/users?${query}`), listUsersQuery);
      expect(listUsersQuery.safeParse(input).success, `validator: ${query}`).toBe(expected);
      const documented = Object.entries(input).every(([name, value]) => byName[name] !== undefined && accepts(byName[name]!, value));
      expect(documented, `document: ${query}`).toBe(expected);
    }
    expect(Object.keys(byName).sort()).toEqual(Object.keys(listUsersQuery.shape).sort());
  });
  it('POST /policies and PATCH /policies/{id}: ?dryRun is documented as the handler reads it, with the dry run\'s 200', () => {
    for (const [path, method] of [['/policies', 'post'], ['/policies/{id}', 'patch']] as const) {
      const op = doc.paths[path]![method];
      const byName = Object.fromEntries((op.parameters as { name: string; in: string; schema: Record<string, unknown> }[]).filter((p) => p.in === 'query').map((p) => [p.name, p.schema]));
      expect(Object.keys(byName)).toEqual(['dryRun']);
      for (const [query, expected] of [['dryRun=true', true], ['dryRun=false', true], ['dryRun=yes', false], ['dryRun=1', false], ['dry=true', false]] as const) {
        const input = queryToInput(new URL(`https://x.test/api/v1${path}?${query}`), policyWriteQuery);
        expect(policyWriteQuery.safeParse(input).success, `validator: ${query}`).toBe(expected);
        const documented = Object.entries(input).every(([name, value]) => byName[name] !== undefined && accepts(byName[name]!, value));
        expect(documented, `document: ${method} ${query}`).toBe(expected);
      }
      expect(op.responses['200'].description).toMatch(/dryRun=true/);
    }
    expect(Object.keys(doc.paths['/policies']!.post.responses)).toEqual(expect.arrayContaining(['200', '201']));
  });
});
