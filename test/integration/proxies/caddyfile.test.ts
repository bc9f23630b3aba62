import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderSnippet } from '../../e2e/support/proxies';

/*
 * The order of the shipped Caddyfile's handlers, as Debian's Caddy itself reads it
 * (`caddy adapt`). The e2e (test/e2e/reverse-proxies.spec.ts) cannot see this order: Caddy 2.6
 * overwrites every copied header anyway. Later releases copy only the headers the answer has,
 * so a client's Remote-* header survives unless it was deleted BEFORE forward_auth; and
 * Caddy's default directive order puts request_header after forward_auth, where it would
 * delete Portcullis's own headers instead.
 */
const caddy = process.env.CADDY_PATH || '/usr/bin/caddy';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-caddyfile-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type Handler = { handler: string; routes?: { handle?: Handler[] }[]; request?: { delete?: string[] }; rewrite?: { uri?: string }; upstreams?: { dial: string }[] };

/** The site's handlers in the order a request meets them, one word each. */
function steps(handlers: Handler[]): string[] {
  return handlers.flatMap((h) => {
    if (h.handler === 'subroute') return (h.routes ?? []).flatMap((r) => steps(r.handle ?? []));
    if (h.handler === 'headers') return (h.request?.delete ?? []).map((name) => `delete ${name}`);
    if (h.handler === 'reverse_proxy') return [h.rewrite?.uri ? `auth ${h.upstreams?.[0]?.dial}${h.rewrite.uri}` : `proxy ${h.upstreams?.[0]?.dial}`];
    return [h.handler];
  });
}

describe('docs/proxies/Caddyfile as Caddy reads it', () => {
  it('deletes every client-sent Remote-* header, then asks Portcullis, then proxies to the app', () => {
    const file = path.join(dir, 'Caddyfile');
    fs.writeFileSync(file, renderSnippet('Caddyfile', { SITE_ADDRESS: 'http://wiki.example.test:8081', PORTCULLIS: '127.0.0.1:3000', UPSTREAM: '127.0.0.1:8080' }));
    const json = execFileSync(caddy, ['adapt', '--config', file, '--adapter', 'caddyfile'], {
      env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = Object.values(JSON.parse(json).apps.http.servers as Record<string, { routes: { match: unknown; handle: Handler[] }[] }>)[0]!;
    expect(server.routes).toHaveLength(1);
    expect(server.routes[0]!.match).toEqual([{ host: ['wiki.example.test'] }]);
    expect(steps(server.routes[0]!.handle)).toEqual([
      'delete Remote-User',
      'delete Remote-Email',
      'delete Remote-Name',
      'delete Remote-Groups',
      'delete Remote-Methods',
      'auth 127.0.0.1:3000/api/authz/forward-auth',
      'proxy 127.0.0.1:8080',
    ]);
  });

  it('refuses to render a snippet with a placeholder left unfilled', () => {
    expect(() => renderSnippet('Caddyfile', { SITE_ADDRESS: 'http://wiki.example.test:8081', PORTCULLIS: '127.0.0.1:3000' })).toThrow(/@UPSTREAM@/);
  });
});
