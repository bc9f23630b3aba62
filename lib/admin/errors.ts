/**
 * Errors services return to the console and the API, which render them as messages or as
 * application/problem+json with per-field errors (RFC 9457). Recognise them with the guards
 * of lib/errors/brand.ts, never `instanceof` (a bundle may hold two copies of a class).
 */
import { brandError } from '../errors/brand';

export class ValidationError extends Error {
  constructor(public readonly fieldErrors: Record<string, string[]>, message = 'The request has invalid fields.') {
    super(message);
    brandError(this, 'ValidationError');
  }
}

export class NotFoundError extends Error {
  constructor(public readonly what: string, public readonly ids: string[] = []) {
    super(`${what} not found${ids.length ? `: ${ids.join(', ')}` : ''}`);
    brandError(this, 'NotFoundError');
  }
}

export class ConflictError extends Error {
  constructor(message: string, public readonly field?: string) {
    super(message);
    brandError(this, 'ConflictError');
  }
}

import type { z, ZodError } from 'zod';

export function fromZod(error: ZodError): ValidationError {
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join('.') : '_';
    (fieldErrors[key] ??= []).push(issue.message);
  }
  return new ValidationError(fieldErrors);
}

/** The parsed input, or a ValidationError naming each refused field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}
