/**
 * Errors services return to the console and the API, which render them as messages or as
 * application/problem+json with per-field errors (RFC 9457).
 */
export class ValidationError extends Error {
  constructor(public readonly fieldErrors: Record<string, string[]>, message = 'The request has invalid fields.') {
    super(message);
  }
}

export class NotFoundError extends Error {
  constructor(public readonly what: string, public readonly ids: string[] = []) {
    super(`${what} not found${ids.length ? `: ${ids.join(', ')}` : ''}`);
  }
}

export class ConflictError extends Error {
  constructor(message: string, public readonly field?: string) {
    super(message);
  }
}

import type { ZodError } from 'zod';

export function fromZod(error: ZodError): ValidationError {
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join('.') : '_';
    (fieldErrors[key] ??= []).push(issue.message);
  }
  return new ValidationError(fieldErrors);
}
