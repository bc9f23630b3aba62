import { describe, expect, it } from 'vitest';
import { maxFormBytes, readSignInForm } from '../../../app/login/submit/form';

function post(body: BodyInit | null, type = 'application/x-www-form-urlencoded', headers: Record<string, string> = {}): Request {
  return new Request('http://portal.test/login/submit', {
    method: 'POST',
    headers: { ...(type ? { 'content-type': type } : {}), ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
}

describe('readSignInForm: the sign-in form, read within 8 KiB', () => {
  it('reads the three fields of a urlencoded form, percent- and plus-decoded as UTF-8', async () => {
    const result = await readSignInForm(post('username=%C3%A9lodie&password=a+b%26c%3D&returnTo=%2Fapps%2Fdemo%3Fx%3D1'));
    expect(result).toEqual({ ok: true, fields: { username: 'élodie', password: 'a b&c=', returnTo: '/apps/demo?x=1' } });
  });

  it('reads what FormData reads, for any urlencoded body', async () => {
    const bodies = ['', 'username', 'username=&password=', '=x&&username=a=b', 'username=%zz&password=%', 'returnTo=%2F%2Fevil', 'a=1;username=2'];
    for (const body of bodies) {
      const form = await new Response(body, { headers: { 'content-type': 'application/x-www-form-urlencoded' } }).formData();
      const one = (name: string) => (form.getAll(name).length === 1 ? form.get(name) : null);
      expect(await readSignInForm(post(body))).toEqual({
        ok: true,
        fields: { username: one('username'), password: one('password'), returnTo: one('returnTo') },
      });
    }
  });

  it('takes a charset parameter and any case in the content type', async () => {
    const result = await readSignInForm(post('username=a&password=b', 'Application/X-WWW-Form-Urlencoded; charset=UTF-8'));
    expect(result).toMatchObject({ ok: true, fields: { username: 'a', password: 'b' } });
  });

  it('returns a repeated field as null instead of picking one', async () => {
    const result = await readSignInForm(post('username=alice&username=mallory&password=x&returnTo=/a&returnTo=/b'));
    expect(result).toEqual({ ok: true, fields: { username: null, password: 'x', returnTo: null } });
  });

  it(`accepts exactly ${maxFormBytes} bytes and refuses one more, declared or not`, async () => {
    const exact = `username=a&password=${'p'.repeat(maxFormBytes - 'username=a&password='.length)}`;
    expect(exact).toHaveLength(maxFormBytes);
    expect(await readSignInForm(post(exact))).toMatchObject({ ok: true });
    expect(await readSignInForm(post(`${exact}p`))).toEqual({ ok: false, reason: 'too_large' });
    const undeclared = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(exact));
        c.enqueue(new TextEncoder().encode('p'));
        c.close();
      },
    });
    expect(await readSignInForm(post(undeclared))).toEqual({ ok: false, reason: 'too_large' });
  });

  it('refuses on a declared length over the limit without reading the body', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(10));
        c.close();
      },
    });
    const result = await readSignInForm(post(body, undefined, { 'content-length': String(maxFormBytes + 1) }));
    expect(result).toEqual({ ok: false, reason: 'too_large' });
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it.each([['text/plain'], ['application/json'], ['']])('a %s body is unreadable as a form', async (type) => {
    expect(await readSignInForm(post('username=a&password=b', type))).toEqual({ ok: false, reason: 'unreadable' });
  });

  it('reads a multipart form through FormData, a file in place of a field being no value', async () => {
    const fd = new FormData();
    fd.set('username', 'alice');
    fd.set('password', new Blob(['secret']), 'password.txt');
    const encoded = new Response(fd);
    const result = await readSignInForm(post(await encoded.arrayBuffer(), encoded.headers.get('content-type')!));
    expect(result).toEqual({ ok: true, fields: { username: 'alice', password: null, returnTo: null } });
  });

  it('a malformed multipart body is unreadable, not an exception', async () => {
    expect(await readSignInForm(post('--x\r\nnonsense', 'multipart/form-data; boundary=x'))).toEqual({ ok: false, reason: 'unreadable' });
  });
});
