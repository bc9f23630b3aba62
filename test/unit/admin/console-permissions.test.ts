import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { can, permissions, type Permission } from '../../../lib/admin/permissions';

/*
 * Every console page, route handler and server action, found on disk under app/admin, checks
 * its own permission (R-D9: the middleware is not the only wall): its first await is
 * requirePermission('<permission>', …), directly or through a helper of its file that passes
 * the permission on. A new page or action without that check fails here.
 *
 * Hal, from the helpdesk, may use exactly the entries listed in `helpdeskMay`; everything else
 * answers him 403. test/e2e/helpdesk.spec.ts walks the same entries on a running server.
 */
const root = path.resolve(import.meta.dirname, '../../..');
const consoleDir = path.join(root, 'app/admin');

const helpdeskMay = new Set([
  'app/admin/page.tsx#default',
  'app/admin/users/page.tsx#default',
  'app/admin/users/[id]/page.tsx#default',
  'app/admin/users/[id]/actions.ts#resetTotpAction',
  'app/admin/users/[id]/actions.ts#unlockUserAction',
  'app/admin/users/[id]/actions.ts#revokeSessionsAction',
  'app/admin/users/[id]/actions.ts#forgetDeviceAction',
  'app/admin/users/[id]/actions.ts#forgetDevicesAction',
  'app/admin/users/[id]/actions.ts#resendInvitationAction',
  'app/admin/users/[id]/actions.ts#sendPasswordResetAction',
]);

interface Entry {
  /** "app/admin/users/page.tsx#default". */
  id: string;
  kind: 'page' | 'route' | 'action';
  /** The permission checked first, or why none was found. */
  permission: string | null;
  problem?: string;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

const httpMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

function isExported(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}
function isDefault(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
}

/** The first await of a body that is not just awaiting a value (`await params`), in source order. */
function firstAwait(body: ts.Node): ts.AwaitExpression | undefined {
  let found: ts.AwaitExpression | undefined;
  const visit = (node: ts.Node) => {
    if (found) return;
    if (ts.isAwaitExpression(node) && !ts.isIdentifier(node.expression)) {
      found = node;
      return;
    }
    // Nested functions run later, if at all: not part of this body's order.
    if (ts.isFunctionLike(node) && node !== body) return;
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(body, visit);
  return found;
}

/** The permission a call checks: requirePermission('p', …), or a local helper that passes its argument (or a literal) on. */
function permissionOfCall(call: ts.CallExpression, helpers: Map<string, ts.FunctionDeclaration>): string | null {
  if (!ts.isIdentifier(call.expression)) return null;
  const name = call.expression.text;
  const first = call.arguments[0];
  if (name === 'requirePermission') return first && ts.isStringLiteral(first) ? first.text : null;
  const helper = helpers.get(name);
  if (!helper?.body) return null;
  const inner = firstAwait(helper.body);
  if (!inner || !ts.isCallExpression(inner.expression) || !ts.isIdentifier(inner.expression.expression)) return null;
  if (inner.expression.expression.text !== 'requirePermission') return null;
  const arg = inner.expression.arguments[0];
  if (arg && ts.isStringLiteral(arg)) return arg.text;
  if (arg && ts.isIdentifier(arg)) {
    const index = helper.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === arg.text);
    const passed = index >= 0 ? call.arguments[index] : undefined;
    return passed && ts.isStringLiteral(passed) ? passed.text : null;
  }
  return null;
}

function entriesOf(file: string): Entry[] {
  const rel = path.relative(root, file).split(path.sep).join('/');
  const base = path.basename(file);
  const text = fs.readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const isServer = source.statements[0] !== undefined && ts.isExpressionStatement(source.statements[0]) && /^['"]use server['"]$/.test(source.statements[0].expression.getText());
  const kind: Entry['kind'] | null = base === 'page.tsx' ? 'page' : base === 'route.ts' ? 'route' : isServer ? 'action' : null;
  if (!kind) return [];
  const helpers = new Map<string, ts.FunctionDeclaration>();
  const exported: { name: string; fn: ts.FunctionLikeDeclaration }[] = [];
  for (const statement of source.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name) {
      if (!isExported(statement)) helpers.set(statement.name.text, statement);
      else exported.push({ name: isDefault(statement) ? 'default' : statement.name.text, fn: statement });
    } else if (ts.isVariableStatement(statement) && isExported(statement)) {
      for (const d of statement.declarationList.declarations) {
        if (ts.isIdentifier(d.name) && d.initializer && (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer))) {
          exported.push({ name: d.name.text, fn: d.initializer });
        }
      }
    } else if (ts.isExportAssignment(statement)) {
      exported.push({ name: 'default', fn: undefined as unknown as ts.FunctionLikeDeclaration });
    }
  }
  const wanted = exported.filter(({ name }) => (kind === 'page' ? name === 'default' : kind === 'route' ? httpMethods.has(name) : true));
  if (wanted.length === 0) return [{ id: `${rel}#?`, kind, permission: null, problem: 'no handler found' }];
  return wanted.map(({ name, fn }) => {
    const id = `${rel}#${name}`;
    const body = fn?.body;
    if (!body) return { id, kind, permission: null, problem: 'not a function with a body' };
    const first = firstAwait(body);
    if (!first || !ts.isCallExpression(first.expression)) return { id, kind, permission: null, problem: 'its first await is not a permission check' };
    const permission = permissionOfCall(first.expression, helpers);
    return permission === null ? { id, kind, permission: null, problem: `its first await is ${first.expression.expression.getText()}(…), not a permission check` } : { id, kind, permission };
  });
}

const entries = walk(consoleDir)
  .filter((f) => /\.(ts|tsx)$/.test(f))
  .sort()
  .flatMap(entriesOf);

describe('every console page, route and server action checks its own permission', () => {
  it('finds them all on disk: pages, the two CSV routes, and the server actions', () => {
    const count = (kind: Entry['kind']) => entries.filter((e) => e.kind === kind).length;
    expect(count('page')).toBeGreaterThanOrEqual(14);
    expect(count('route')).toBeGreaterThanOrEqual(2);
    expect(count('action')).toBeGreaterThanOrEqual(20);
    for (const id of helpdeskMay) expect(entries.map((e) => e.id)).toContain(id);
  });

  it.each(entries)('$id checks a known permission first', (entry) => {
    expect(entry.problem).toBeUndefined();
    expect(permissions).toContain(entry.permission);
  });

  it.each(entries)('$id: Hal from the helpdesk is allowed exactly when listed, Ada always', (entry) => {
    const permission = entry.permission as Permission;
    expect(can('helpdesk', permission)).toBe(helpdeskMay.has(entry.id));
    expect(can('admin', permission)).toBe(true);
    expect(can('user', permission)).toBe(false);
  });
});
