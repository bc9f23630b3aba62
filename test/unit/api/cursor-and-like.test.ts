import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { decodeCursor, encodeCursor, invalidCursorMessage, maxCursorLength } from '../../../lib/admin/cursor';
import { ValidationError } from '../../../lib/admin/errors';
import { containsPattern, escapeLike } from '../../../db/queries/like';

const position = z.strictObject({ v: z.literal(1), s: z.literal('username'), k: z.tuple([z.string(), z.string()]) });

describe('page cursors', () => {
  it('round-trip: what was encoded is what comes back', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), fc.uuid(), (name, id) => {
        const value = { v: 1 as const, s: 'username' as const, k: [name, id] as [string, string] };
        const cursor = encodeCursor(value);
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeCursor(cursor, position)).toEqual(value);
      }),
    );
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+/='],
    ['spaces', 'ey J2 Ij'],
    ['truncated JSON', Buffer.from('{"v":1,"s":"user').toString('base64url')],
    ['not JSON at all', Buffer.from('\u0000\u0001garbage').toString('base64url')],
    ['another version', encodeCursor({ v: 2, s: 'username', k: ['a', 'b'] })],
    ['extra keys', encodeCursor({ v: 1, s: 'username', k: ['a', 'b'], admin: true })],
    ['wrong types', encodeCursor({ v: 1, s: 'username', k: [{}, []] })],
    ['a bare string', encodeCursor('username')],
    ['too long', 'A'.repeat(maxCursorLength + 1)],
  ])('refuses a cursor that is %s with a ValidationError on "cursor"', (_, cursor) => {
    let thrown: unknown;
    try {
      decodeCursor(cursor, position);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).fieldErrors).toEqual({ cursor: [invalidCursorMessage] });
  });

  it('never throws anything but a ValidationError, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 700 }), (text) => {
        try {
          decodeCursor(text, position);
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
        }
      }),
    );
  });
});

describe('LIKE escaping', () => {
  it('escapes the wildcards and the escape character itself', () => {
    expect(escapeLike('100%')).toBe('100\\%');
    expect(escapeLike('eve_ops')).toBe('eve\\_ops');
    expect(escapeLike('a\\b')).toBe('a\\\\b');
    expect(escapeLike('\\%')).toBe('\\\\\\%');
    expect(escapeLike('plain text')).toBe('plain text');
    expect(containsPattern('x_%')).toBe('%x\\_\\%%');
  });

  /** A LIKE matcher with an escape character, as SQL defines it: the reference for the property. */
  function likeMatches(value: string, pattern: string): boolean {
    let re = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === '\\') re += (pattern[++i] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      else if (c === '%') re += '[\\s\\S]*';
      else if (c === '_') re += '[\\s\\S]';
      else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${re}$`, 'u').test(value);
  }

  it('a contains-pattern matches exactly the values that contain the text', () => {
    const alphabet = fc.constantFrom('a', 'b', '%', '_', '\\', 'x');
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 6 }), fc.string({ unit: alphabet, maxLength: 10 }), (text, value) => {
        expect(likeMatches(value, containsPattern(text))).toBe(value.includes(text));
      }),
    );
  });
});
