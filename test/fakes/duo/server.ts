import https from 'node:https';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { makeSelfSignedCertificate, type TestCertificate } from './cert';
import { JwtError, signHs512, verifyHs512 } from './jwt';

/**
 * A fake of Duo's OIDC service (the part the Universal Prompt client talks to), over HTTPS
 * on 127.0.0.1 with a certificate made at start-up:
 *
 * - POST /oauth/v1/health_check: checks the client assertion (HS512 JWT signed with the
 *   client secret, audience = this endpoint), answers {stat: 'OK'}.
 * - GET /oauth/v1/authorize: checks the signed request JWT (client id, redirect URI,
 *   audience, expiry, state), "authenticates" its duo_uname at once, and redirects back
 *   with the state and a single-use code (`duo_code`, or `code` when the client asked so).
 * - POST /oauth/v1/token: checks the client assertion and the code (single use, one
 *   minute, same client and redirect URI), answers an id_token signed HS512 with the client
 *   secret carrying Duo's claims: preferred_username, auth_result, auth_time, nonce.
 *
 * Tests steer it: `mode` makes it fail ('down': 503 everywhere; 'hang': never answers the
 * health check; 'token_error': 500 from the token endpoint), `outcome` decides a user's
 * auth_result, and mintCode() makes a code for any user (someone else's code).
 *
 *   const duo = await startFakeDuo();
 *   duo.mode = 'down';
 *   await duo.close();
 */

export type FakeDuoMode = 'ok' | 'down' | 'hang' | 'token_error';

export interface FakeDuoCall {
  endpoint: 'health_check' | 'authorize' | 'token';
  /** Whether the fake accepted the request; `error` says why not. */
  ok: boolean;
  error?: string;
  username?: string;
  state?: string;
}

interface IssuedCode {
  username: string;
  redirectUri: string;
  nonce: unknown;
  expiresAt: number;
}

export interface FakeDuo {
  /** host:port, as Portcullis' "API hostname" setting. */
  apiHost: string;
  url: string;
  clientId: string;
  clientSecret: string;
  /** The self-signed certificate's PEM (the only thing a test client needs to trust). */
  ca: string;
  caFile: string;
  mode: FakeDuoMode;
  /**
   * 'redirect' (default): approve at once and redirect back. 'page': show a prompt page
   * whose "Approve" link goes back (a navigation a test can read and change).
   */
  prompt: 'redirect' | 'page';
  /** auth_result.result per username; default 'allow'. */
  outcome: Map<string, 'allow' | 'deny'>;
  calls: FakeDuoCall[];
  /** A valid code for `username`, as if they had just approved a prompt. */
  mintCode(username: string, redirectUri: string): string;
  close(): Promise<void>;
}

export const fakeDuoCodeTtlMs = 60_000;

function newClientId(): string {
  // 20 upper-case alphanumerics, like Duo's integration keys.
  return `DI${randomBytes(12).toString('hex').toUpperCase()}`.slice(0, 20);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startFakeDuo(options: { clientId?: string; clientSecret?: string; certificate?: TestCertificate } = {}): Promise<FakeDuo> {
  const certificate = options.certificate ?? makeSelfSignedCertificate();
  const clientId = options.clientId ?? newClientId();
  const clientSecret = options.clientSecret ?? randomBytes(20).toString('hex'); // 40 characters
  const codes = new Map<string, IssuedCode>();
  const hanging = new Set<ServerResponse>();

  const fake: FakeDuo = {
    apiHost: '',
    url: '',
    clientId,
    clientSecret,
    ca: certificate.cert,
    caFile: certificate.certFile,
    mode: 'ok',
    prompt: 'redirect',
    outcome: new Map(),
    calls: [],
    mintCode(username, redirectUri) {
      const code = randomBytes(24).toString('hex');
      codes.set(code, { username, redirectUri, nonce: undefined, expiresAt: Date.now() + fakeDuoCodeTtlMs });
      return code;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };

  const endpoint = (path: string) => `https://${fake.apiHost}${path}`;

  /** The client assertion of health check and token requests. */
  function checkClientAssertion(form: URLSearchParams, audience: string): string | null {
    if (form.get('client_id') !== clientId) return 'unknown client_id';
    try {
      const claims = verifyHs512(form.get('client_assertion'), clientSecret, { audience });
      if (claims.iss !== clientId || claims.sub !== clientId) return 'assertion iss/sub';
      if (typeof claims.jti !== 'string' || claims.jti.length < 16) return 'assertion jti';
      return null;
    } catch (err) {
      return `assertion: ${(err as Error).message}`;
    }
  }

  async function healthCheck(req: IncomingMessage, res: ServerResponse) {
    if (fake.mode === 'hang') {
      fake.calls.push({ endpoint: 'health_check', ok: false, error: 'hang' });
      hanging.add(res); // never answered; destroyed on close()
      return;
    }
    const form = await readForm(req);
    if (fake.mode === 'down') {
      fake.calls.push({ endpoint: 'health_check', ok: false, error: 'down' });
      return json(res, 503, { stat: 'FAIL', code: 50000, message: 'Service unavailable', message_detail: 'The fake is down' });
    }
    const problem = checkClientAssertion(form, endpoint('/oauth/v1/health_check'));
    fake.calls.push({ endpoint: 'health_check', ok: problem === null, ...(problem ? { error: problem } : {}) });
    if (problem) return json(res, 400, { stat: 'FAIL', code: 40002, message: 'invalid_client', message_detail: problem });
    json(res, 200, { stat: 'OK', response: { timestamp: Math.floor(Date.now() / 1000) } });
  }

  function authorize(url: URL, res: ServerResponse) {
    const q = url.searchParams;
    const fail = (error: string) => {
      fake.calls.push({ endpoint: 'authorize', ok: false, error });
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`Bad request: ${error}`);
    };
    if (fake.mode === 'down') return fail('down');
    if (q.get('response_type') !== 'code' || q.get('scope') !== 'openid') return fail('response_type/scope');
    if (q.get('client_id') !== clientId) return fail('unknown client_id');
    let claims: Record<string, unknown>;
    try {
      claims = verifyHs512(q.get('request'), clientSecret, { audience: `https://${fake.apiHost}` });
    } catch (err) {
      return fail(`request: ${err instanceof JwtError ? err.message : 'invalid'}`);
    }
    const state = claims.state;
    const username = claims.duo_uname;
    const redirectUri = claims.redirect_uri;
    if (claims.client_id !== clientId || claims.iss !== clientId) return fail('request client_id/iss');
    if (claims.response_type !== 'code' || claims.scope !== 'openid') return fail('request response_type/scope');
    if (typeof redirectUri !== 'string' || redirectUri !== q.get('redirect_uri')) return fail('redirect_uri');
    if (typeof state !== 'string' || state.length < 22 || state.length > 1024) return fail('state');
    if (typeof username !== 'string' || username.length === 0) return fail('duo_uname');

    const code = randomBytes(24).toString('hex');
    codes.set(code, { username, redirectUri, nonce: claims.nonce, expiresAt: Date.now() + fakeDuoCodeTtlMs });
    fake.calls.push({ endpoint: 'authorize', ok: true, username, state });
    const back = new URL(redirectUri);
    back.searchParams.set('state', state);
    back.searchParams.set(claims.use_duo_code_attribute === false ? 'code' : 'duo_code', code);
    if (fake.prompt === 'page') {
      const escape = (t: string) => t.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><html lang="en"><head><title>Duo (fake)</title></head><body><main>` +
          `<h1>Duo Security (fake)</h1><p>Approve the sign-in of ${escape(username)}?</p>` +
          `<a href="${escape(back.toString())}">Approve</a></main></body></html>`,
      );
      return;
    }
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  async function token(req: IncomingMessage, res: ServerResponse) {
    const form = await readForm(req);
    const fail = (status: number, error: string, description: string) => {
      fake.calls.push({ endpoint: 'token', ok: false, error: `${error}: ${description}` });
      json(res, status, { error, error_description: description });
    };
    if (fake.mode === 'down') return fail(503, 'temporarily_unavailable', 'The fake is down');
    if (fake.mode === 'token_error') return fail(500, 'server_error', 'The fake failed on purpose');
    if (form.get('grant_type') !== 'authorization_code') return fail(400, 'unsupported_grant_type', 'grant_type');
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      return fail(400, 'invalid_client', 'client_assertion_type');
    }
    const problem = checkClientAssertion(form, endpoint('/oauth/v1/token'));
    if (problem) return fail(400, 'invalid_client', problem);
    const code = form.get('code') ?? '';
    const issued = codes.get(code);
    codes.delete(code); // single use, whatever happens next
    if (!issued || issued.expiresAt < Date.now()) return fail(400, 'invalid_grant', 'unknown, used or expired code');
    if (form.get('redirect_uri') !== issued.redirectUri) return fail(400, 'invalid_grant', 'redirect_uri');

    const now = Math.floor(Date.now() / 1000);
    const result = fake.outcome.get(issued.username) ?? 'allow';
    const idToken = signHs512(
      {
        iss: endpoint('/oauth/v1/token'),
        aud: clientId,
        sub: issued.username,
        exp: now + 300,
        iat: now,
        auth_time: now,
        preferred_username: issued.username,
        ...(issued.nonce !== undefined ? { nonce: issued.nonce } : {}),
        auth_result: {
          result,
          status: result,
          status_msg: result === 'allow' ? 'Login Successful' : 'Login denied',
        },
        auth_context: { result, factor: 'duo_push', user: { name: issued.username } },
      },
      clientSecret,
    );
    fake.calls.push({ endpoint: 'token', ok: true, username: issued.username });
    json(res, 200, { id_token: idToken, access_token: randomBytes(16).toString('hex'), expires_in: 3600, token_type: 'Bearer' });
  }

  const server = https.createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
    const url = new URL(req.url ?? '/', `https://${fake.apiHost}`);
    const route = `${req.method} ${url.pathname}`;
    const handle = async () => {
      if (route === 'POST /oauth/v1/health_check') return healthCheck(req, res);
      if (route === 'GET /oauth/v1/authorize') return authorize(url, res);
      if (route === 'POST /oauth/v1/token') return token(req, res);
      json(res, 404, { stat: 'FAIL', message: 'not found' });
    };
    handle().catch(() => {
      if (!res.headersSent) json(res, 500, { stat: 'FAIL', message: 'fake error' });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.apiHost = `127.0.0.1:${port}`;
  fake.url = `https://${fake.apiHost}`;
  return fake;
}
