/**
 * Load generation over node:http with keep-alive sockets: a closed loop (N requests in
 * flight for a fixed time: throughput), an open loop (requests started on a fixed schedule:
 * latency that does not hide behind a slow server), and the portal's sign-in form.
 */
import http from 'node:http';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

export interface RequestSpec {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export function keepAliveAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

export function request(baseUrl: string, spec: RequestSpec, agent: http.Agent | false): Promise<HttpResult> {
  const url = new URL(spec.path, baseUrl);
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'user-agent': 'portcullis-bench', ...(spec.headers ?? {}) };
    if (spec.body !== undefined) headers['content-length'] = String(Buffer.byteLength(spec.body));
    const req = http.request(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: spec.method ?? 'GET', headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`timed out: ${spec.method ?? 'GET'} ${spec.path}`)));
    req.on('error', reject);
    req.end(spec.body);
  });
}

/** The session cookie (`name=value`) set by a successful sign-in through POST /login/submit. */
export async function signIn(baseUrl: string, username: string, password: string, agent: http.Agent | false = false): Promise<string> {
  const res = await postSignIn(baseUrl, username, password, agent);
  const cookie = sessionCookieOf(res);
  if (res.status !== 303 || !cookie || res.headers.location !== '/portal') {
    throw new Error(`sign-in of ${username} failed: ${res.status} location=${res.headers.location ?? ''}`);
  }
  return cookie;
}

export function postSignIn(baseUrl: string, username: string, password: string, agent: http.Agent | false): Promise<HttpResult> {
  return request(
    baseUrl,
    {
      method: 'POST',
      path: '/login/submit',
      headers: { origin: baseUrl, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password, returnTo: '/portal' }).toString(),
    },
    agent,
  );
}

export function sessionCookieOf(res: HttpResult): string | null {
  for (const line of res.headers['set-cookie'] ?? []) {
    const pair = line.split(';')[0]!;
    if (/^(__Host-)?portcullis\.session=/.test(pair)) return pair;
  }
  return null;
}

export interface LoopStats {
  /** Requests that completed and passed `check`. */
  ok: number;
  failed: number;
  firstFailure?: string;
  elapsedMs: number;
  perSecond: number;
  latenciesMs: number[];
}

/**
 * Keeps `concurrency` requests in flight for `durationMs` (a closed loop) and returns
 * the rate of requests that passed `check`. A request started before the deadline is
 * awaited; the rate divides by the time the last one ended.
 */
export async function closedLoop(opts: {
  concurrency: number;
  durationMs: number;
  next: (i: number) => Promise<HttpResult | true>;
  check?: (res: HttpResult) => string | null;
}): Promise<LoopStats> {
  const stats: LoopStats = { ok: 0, failed: 0, elapsedMs: 0, perSecond: 0, latenciesMs: [] };
  const start = performance.now();
  const deadline = start + opts.durationMs;
  let issued = 0;
  let end = start;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const res = await opts.next(issued++);
        const problem = res === true ? null : (opts.check?.(res) ?? null);
        if (problem) {
          stats.failed++;
          stats.firstFailure ??= problem;
        } else {
          stats.ok++;
          stats.latenciesMs.push(performance.now() - t0);
        }
      } catch (e) {
        stats.failed++;
        stats.firstFailure ??= (e as Error).message;
      }
      end = performance.now();
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  stats.elapsedMs = end - start;
  stats.perSecond = stats.ok / (stats.elapsedMs / 1000);
  return stats;
}

/**
 * Starts one request every 1000/rate ms for `durationMs`, whatever the server's speed (an
 * open loop), and records each latency from its scheduled start, so a stalled server
 * shows up in the percentiles instead of slowing the generator down.
 */
export async function openLoop(opts: {
  ratePerSecond: number;
  durationMs: number;
  next: () => Promise<HttpResult>;
  check?: (res: HttpResult) => string | null;
}): Promise<LoopStats> {
  const stats: LoopStats = { ok: 0, failed: 0, elapsedMs: 0, perSecond: 0, latenciesMs: [] };
  const interval = 1000 / opts.ratePerSecond;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; ; i++) {
    const scheduled = start + i * interval;
    if (scheduled - start >= opts.durationMs) break;
    const wait = scheduled - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      opts.next().then(
        (res) => {
          const problem = opts.check?.(res) ?? null;
          if (problem) {
            stats.failed++;
            stats.firstFailure ??= problem;
          } else {
            stats.ok++;
            stats.latenciesMs.push(performance.now() - scheduled);
          }
        },
        (e: Error) => {
          stats.failed++;
          stats.firstFailure ??= e.message;
        },
      ),
    );
  }
  await Promise.all(pending);
  stats.elapsedMs = performance.now() - start;
  stats.perSecond = stats.ok / (stats.elapsedMs / 1000);
  return stats;
}

/** A check for the signed-in portal page: 200 and its heading. */
export function portalCheck(res: HttpResult): string | null {
  if (res.status !== 200) return `GET /portal answered ${res.status} (location ${res.headers.location ?? '-'})`;
  if (!res.body.includes('User Portal')) return 'GET /portal: 200 without the "User Portal" heading';
  return null;
}
