import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { routes, type RouteSpec } from '@/lib/api/routes';

/**
 * Every strict object the API validates with refuses an unknown key with a
 * message that names it ("Unknown field: description."), never a blanket "Expected an object.".
 * Walks every route's body and query schema, nested objects included, so a schema added
 * later is checked without being listed here.
 */

type Def = { type: string; [key: string]: any };
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** Every strict object inside `schema`, with the path that reaches it. */
function strictObjects(schema: unknown, path: string, out: { path: string; schema: z.ZodType }[], seen = new Set<unknown>()): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      if (def.catchall && defOf(def.catchall).type === 'never') out.push({ path, schema: schema as z.ZodType });
      for (const [key, child] of Object.entries(def.shape as Record<string, unknown>)) strictObjects(child, `${path}.${key}`, out, seen);
      return;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      strictObjects(def.innerType, path, out, seen);
      return;
    case 'pipe':
      strictObjects(def.in, path, out, seen);
      strictObjects(def.out, path, out, seen);
      return;
    case 'union':
      for (const option of def.options as unknown[]) strictObjects(option, path, out, seen);
      return;
    case 'array':
      strictObjects(def.element, `${path}[]`, out, seen);
      return;
    default:
      return;
  }
}

const cases: { name: string; schema: z.ZodType }[] = [];
for (const [name, spec] of Object.entries(routes) as [string, RouteSpec<any, any>][]) {
  const found: { path: string; schema: z.ZodType }[] = [];
  if (spec.body) strictObjects(spec.body, 'body', found);
  if (spec.query) strictObjects(spec.query, 'query', found);
  for (const f of found) cases.push({ name: `${name} ${f.path}`, schema: f.schema });
}

describe('strict API schemas name the unknown field', () => {
  it('finds the strict objects of every route that takes a body or a query', () => {
    const withInput = Object.values(routes).filter((spec: RouteSpec<any, any>) => spec.body || spec.query).length;
    expect(new Set(cases.map((c) => c.name.split(' ').slice(0, 2).join(' '))).size).toBe(withInput);
  });

  it.each(cases)('$name', ({ schema }) => {
    const result = schema.safeParse({ surprise: 1 });
    expect(result.success).toBe(false);
    const unknown = result.error!.issues.filter((i) => i.code === 'unrecognized_keys');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]!.message).toMatch(/^Unknown [a-zA-Z ]+: surprise\.$/);
  });

  it('POST /groups {name, description} says "Unknown field: description."', () => {
    const result = routes['POST /groups'].body!.safeParse({ name: 'Finance', description: 'The money people' });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.message)).toEqual(['Unknown field: description.']);
  });
});
