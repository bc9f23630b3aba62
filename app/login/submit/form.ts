import { readBodyUpTo } from '../../../lib/http/bounded-body';

/**
 * The sign-in form's fields, read from the request body with a hard size limit. The login
 * page posts `application/x-www-form-urlencoded`; that is parsed directly (the WHATWG
 * urlencoded parser, as FormData uses) without building a FormData. Multipart bodies go
 * through FormData as before, after the same bounded read.
 *
 * A field sent more than once is not guessed at: a repeated username or password is
 * returned as null (the sign-in refuses it as invalid), a repeated returnTo as null (the
 * default return path).
 */
export const maxFormBytes = 8 * 1024;

export interface SignInFormFields {
  username: string | null;
  password: string | null;
  returnTo: string | null;
}

export type SignInFormResult = { ok: true; fields: SignInFormFields } | { ok: false; reason: 'too_large' | 'unreadable' };

const urlencoded = 'application/x-www-form-urlencoded';

export async function readSignInForm(request: Request, limit = maxFormBytes): Promise<SignInFormResult> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) return { ok: false, reason: 'too_large' };
  const type = (request.headers.get('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
  const isUrlencoded = type === urlencoded;
  if (!isUrlencoded && type !== 'multipart/form-data') return { ok: false, reason: 'unreadable' };
  let body: Buffer | null;
  try {
    body = await readBodyUpTo(request, limit);
  } catch {
    return { ok: false, reason: 'unreadable' };
  }
  if (!body) return { ok: false, reason: 'too_large' };
  if (isUrlencoded) return { ok: true, fields: pick(new URLSearchParams(body.toString('utf8'))) };
  try {
    const form = await new Response(new Uint8Array(body), { headers: { 'content-type': request.headers.get('content-type')! } }).formData();
    return { ok: true, fields: pick(form) };
  } catch {
    return { ok: false, reason: 'unreadable' };
  }
}

function pick(form: { getAll(name: string): unknown[] }): SignInFormFields {
  return { username: single(form, 'username'), password: single(form, 'password'), returnTo: single(form, 'returnTo') };
}

function single(form: { getAll(name: string): unknown[] }, name: string): string | null {
  const values = form.getAll(name);
  return values.length === 1 && typeof values[0] === 'string' ? values[0] : null;
}
