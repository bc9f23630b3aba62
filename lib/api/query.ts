import type { z } from 'zod';
import { ValidationError } from '../admin/errors';

/**
 * Query strings to the typed options a list service takes. The target schema says which
 * fields are booleans ("true"/"false") and numbers (decimal digits); text that is neither
 * is passed on unchanged so the schema refuses it with its own message. A parameter given
 * twice is refused: which one would win is exactly the ambiguity a filter must not have.
 */

export const maxQueryLength = 2048;

function baseType(schema: z.ZodType): string {
  let def = (schema as unknown as { _zod: { def: { type: string; innerType?: z.ZodType } } })._zod.def;
  while ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) {
    def = (def.innerType as unknown as { _zod: { def: { type: string; innerType?: z.ZodType } } })._zod.def;
  }
  return def.type;
}

export function queryToInput(url: URL, schema: z.ZodObject): Record<string, unknown> {
  if (url.search.length > maxQueryLength) {
    throw new ValidationError({ _: [`The query string is limited to ${maxQueryLength} characters.`] });
  }
  const shape = schema.shape as Record<string, z.ZodType>;
  // NOTE: a Map, then fromEntries: a key such as "__proto__" stays an own (refused) key.
  const out = new Map<string, unknown>();
  const repeated: string[] = [];
  for (const [key, text] of url.searchParams) {
    if (out.has(key)) {
      repeated.push(key);
      continue;
    }
    const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
    const type = field ? baseType(field) : 'string';
    if (type === 'boolean' && (text === 'true' || text === 'false')) out.set(key, text === 'true');
    else if (type === 'number' && /^-?\d{1,15}$/.test(text)) out.set(key, Number(text));
    else out.set(key, text);
  }
  if (repeated.length > 0) {
    throw new ValidationError(Object.fromEntries(repeated.map((key) => [key, ['Give this parameter at most once.']])));
  }
  return Object.fromEntries(out);
}
