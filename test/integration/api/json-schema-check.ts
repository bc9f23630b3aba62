/**
 * A small JSON Schema (2020-12) checker for the keywords z.toJSONSchema() emits, so the
 * OpenAPI test can ask "does the document accept this body?" without another package.
 * Unknown keywords fail loudly: a document using one needs this checker to learn it.
 */

type Schema = Record<string, unknown> | boolean;

const known = new Set([
  'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items', 'prefixItems', 'minItems', 'maxItems',
  'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'anyOf', 'oneOf',
  'allOf', 'format', 'default', 'description', 'title', '$schema', 'readOnly', 'examples',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  if (type === 'integer') return actual === 'number' && Number.isInteger(value);
  return actual === type;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function accepts(schema: Schema, value: unknown): boolean {
  if (schema === true) return true;
  if (schema === false) return false;
  for (const key of Object.keys(schema)) if (!known.has(key)) throw new Error(`json-schema-check: unsupported keyword ${key}`);
  const s = schema as Record<string, any>;
  if (s.type !== undefined) {
    const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.some((t) => hasType(value, t))) return false;
  }
  if (s.enum && !s.enum.some((e: unknown) => deepEqual(e, value))) return false;
  if ('const' in s && !deepEqual(s.const, value)) return false;
  if (typeof value === 'string') {
    const length = [...value].length;
    if (s.minLength !== undefined && length < s.minLength) return false;
    if (s.maxLength !== undefined && length > s.maxLength) return false;
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(value)) return false;
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) return false;
    if (s.maximum !== undefined && value > s.maximum) return false;
    if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) return false;
    if (s.exclusiveMaximum !== undefined && value >= s.exclusiveMaximum) return false;
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) return false;
    if (s.maxItems !== undefined && value.length > s.maxItems) return false;
    const prefix: Schema[] = s.prefixItems ?? [];
    for (let i = 0; i < value.length; i++) {
      const itemSchema = i < prefix.length ? prefix[i]! : s.items;
      if (itemSchema !== undefined && !accepts(itemSchema, value[i])) return false;
    }
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of s.required ?? []) if (!Object.hasOwn(object, key)) return false;
    const properties: Record<string, Schema> = s.properties ?? {};
    for (const [key, v] of Object.entries(object)) {
      if (Object.hasOwn(properties, key)) {
        if (!accepts(properties[key]!, v)) return false;
      } else if (s.additionalProperties !== undefined && !accepts(s.additionalProperties, v)) return false;
    }
  }
  if (s.anyOf && !s.anyOf.some((sub: Schema) => accepts(sub, value))) return false;
  if (s.oneOf && s.oneOf.filter((sub: Schema) => accepts(sub, value)).length !== 1) return false;
  if (s.allOf && !s.allOf.every((sub: Schema) => accepts(sub, value))) return false;
  return true;
}
