import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../../../lib/admin/errors';
import { readJsonBody } from '../../../lib/api/body';
import { HttpProblem } from '../../../lib/api/problem';
import { queryToInput } from '../../../lib/api/query';
import { toWire } from '../../../lib/api/wire';

function post(body: BodyInit | null, headers: Record<string, string> = {}) {
  return new Request('https://mfa.example.test/api/v1/x', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
}

async function problemOf(promise: Promise<unknown>): Promise<HttpProblem> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof HttpProblem) return err;
    throw err;
  }
  throw new Error('no problem thrown');
}

describe('JSON bodies', () => {
  it('parses JSON, also application/*+json and charset=utf-8', async () => {
    expect(await readJsonBody(post('{"a":1}', { 'content-type': 'application/json' }))).toEqual({ a: 1 });
    expect(await readJsonBody(post('[1]', { 'content-type': 'application/merge-patch+json' }))).toEqual([1]);
    expect(await readJsonBody(post('{}', { 'content-type': 'Application/JSON; charset=UTF-8' }))).toEqual({});
  });

  it('gives undefined for no body at all', async () => {
    expect(await readJsonBody(post(null))).toBeUndefined();
    expect(await readJsonBody(post('', { 'content-type': 'application/json' }))).toBeUndefined();
  });

  it('refuses other media types with 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1']) {
      expect((await problemOf(readJsonBody(post('{"a":1}', { 'content-type': type })))).status, type).toBe(415);
    }
    expect((await problemOf(readJsonBody(post('{"a":1}')))).status).toBe(415);
  });

  it('refuses bodies over the limit with 413, by Content-Length or by counting a stream', async () => {
    expect((await problemOf(readJsonBody(post('{}', { 'content-type': 'application/json', 'content-length': '70000' }))))).toMatchObject({ status: 413 });
    const big = JSON.stringify({ pad: 'x'.repeat(70_000) });
    expect((await problemOf(readJsonBody(post(big, { 'content-type': 'application/json' }))))).toMatchObject({ status: 413 });
    // No Content-Length: a stream is counted as it arrives.
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(16 * 1024).fill(32));
      },
    });
    expect((await problemOf(readJsonBody(post(stream, { 'content-type': 'application/json' }), 64 * 1024)))).toMatchObject({ status: 413 });
    expect(await readJsonBody(post(big, { 'content-type': 'application/json' }), 1024 * 1024)).toMatchObject({ pad: expect.any(String) });
  });

  it('refuses malformed JSON and invalid UTF-8 with 400', async () => {
    expect((await problemOf(readJsonBody(post('{"a":', { 'content-type': 'application/json' }))))).toMatchObject({ status: 400, slug: 'malformed-json' });
    expect((await problemOf(readJsonBody(post(new Uint8Array([0x7b, 0xff, 0x7d]), { 'content-type': 'application/json' }))))).toMatchObject({
      status: 400,
    });
  });
});

describe('query strings', () => {
  const schema = z.strictObject({ q: z.string().optional(), required: z.boolean().optional(), limit: z.number().int().default(50) });
  const url = (search: string) => new URL(`https://mfa.example.test/api/v1/users?${search}`);

  it('types booleans and numbers by the schema, and leaves anything else as text for it to refuse', () => {
    expect(queryToInput(url('q=ada&required=true&limit=20'), schema)).toEqual({ q: 'ada', required: true, limit: 20 });
    expect(queryToInput(url('required=yes&limit=7.5'), schema)).toEqual({ required: 'yes', limit: '7.5' });
    expect(schema.safeParse(queryToInput(url('limit=seven'), schema)).success).toBe(false);
  });

  it('keeps unknown keys, __proto__ included, so the strict schema refuses them', () => {
    const input = queryToInput(url('__proto__=x&sort=password_hash'), schema);
    expect(Object.keys(input).sort()).toEqual(['__proto__', 'sort']);
    expect(schema.safeParse(input).success).toBe(false);
  });

  it('refuses a parameter given twice, and overlong query strings', () => {
    expect(() => queryToInput(url('q=a&q=b'), schema)).toThrow(ValidationError);
    expect(() => queryToInput(url(`q=${'a'.repeat(3000)}`), schema)).toThrow(ValidationError);
  });
});

describe('wire format', () => {
  it('turns times (at, asOf, *At) into RFC 3339 strings and leaves other numbers alone', () => {
    const t = Date.UTC(2026, 10, 2, 9, 0, 0);
    expect(toWire({ createdAt: t, at: t, asOf: t, count: 3, nested: [{ enrollmentEndsAt: t, enrollmentDays: 7, lastUsedAt: null }] })).toEqual({
      createdAt: '2026-11-02T09:00:00.000Z',
      at: '2026-11-02T09:00:00.000Z',
      asOf: '2026-11-02T09:00:00.000Z',
      count: 3,
      nested: [{ enrollmentEndsAt: '2026-11-02T09:00:00.000Z', enrollmentDays: 7, lastUsedAt: null }],
    });
  });
});
