/**
 * Real reverse proxies for the end-to-end specs: Debian's nginx and Caddy, each started on a
 * free port of 127.0.0.1 from the config snippet the product ships (docs/proxies/), with the
 * snippet's placeholders filled in; and a tiny upstream app behind them that shows what it
 * received.
 *
 *   const app = await startUpstream();
 *   const nginx = await startNginx({ appHost: 'nginx-app.example.test', portcullis: '127.0.0.1:3000', upstream: app.hostPort });
 *   await page.goto(nginx.urlFor('/wiki/page'));   // http://nginx-app.example.test:PORT/wiki/page
 *   await nginx.stop();
 *
 * Each proxy gets a temp dir of its own (config, pid file, logs, nginx's temp paths, Caddy's
 * HOME and XDG dirs), removed when the worker exits unless PORTCULLIS_E2E_KEEP=1. Each runs in
 * its own process group, stopped as a group (as test/e2e/support/server.ts stops the portal).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort, signalGroup, tailOfLog } from '../../support/local-processes';

const repoDir = path.resolve(__dirname, '..', '..', '..');
/** The snippets the product ships; the specs run these files, not copies. */
export const snippetDir = path.join(repoDir, 'docs', 'proxies');

const NGINX = process.env.NGINX_PATH || '/usr/sbin/nginx';
const CADDY = process.env.CADDY_PATH || '/usr/bin/caddy';
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on('exit', () => {
  for (const child of live) signalGroup(child, 'SIGKILL');
  if (process.env.PORTCULLIS_E2E_KEEP !== '1') for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A shipped snippet with its `@NAME@` placeholders filled in. Throws when a value is missing
 * or a placeholder is left over, so a snippet and its spec cannot drift apart silently.
 */
export function renderSnippet(file: string, values: Record<string, string>): string {
  const text = fs.readFileSync(path.join(snippetDir, file), 'utf8');
  // Placeholders in comments are documentation; only the directives are filled in.
  const lines = text.split('\n').map((line) => {
    if (/^\s*#/.test(line)) return line;
    return line.replace(/@([A-Z_]+)@/g, (_, name: string) => {
      const value = values[name];
      if (value === undefined) throw new Error(`${file}: no value for the placeholder @${name}@`);
      return value;
    });
  });
  return lines.join('\n');
}

export interface RunningProxy {
  kind: 'nginx' | 'caddy';
  /** The port it listens on, on 127.0.0.1. */
  port: number;
  /** The app's host name, as the browser names it (mapped to 127.0.0.1 by the browser). */
  appHost: string;
  /** http://<appHost>:<port><path> */
  urlFor(path: string): string;
  dir: string;
  logFile: string;
  stop(): Promise<void>;
}

export interface ProxyOptions {
  /** The app's host name, e.g. nginx-app.example.test. */
  appHost: string;
  /** Where the proxy reaches Portcullis: host:port. */
  portcullis: string;
  /** Where the proxy reaches the app: host:port. */
  upstream: string;
}

/** nginx with docs/proxies/nginx.conf inside a minimal main configuration of its own. */
export async function startNginx(opts: ProxyOptions): Promise<RunningProxy> {
  const dir = tempDir('nginx');
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'app.conf'),
    renderSnippet('nginx.conf', { LISTEN: `127.0.0.1:${port}`, APP_HOST: opts.appHost, PORTCULLIS: opts.portcullis, UPSTREAM: opts.upstream }),
  );
  const temp = (name: string) => path.join(dir, name);
  // As root (CI), nginx's workers would switch to `nobody`, which can't enter this 0700 dir.
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `${user}worker_processes 1;
pid ${temp('nginx.pid')};
error_log ${temp('error.log')} info;
events { worker_connections 256; }
http {
    access_log ${temp('access.log')};
    client_body_temp_path ${temp('body')};
    proxy_temp_path ${temp('proxy')};
    fastcgi_temp_path ${temp('fastcgi')};
    uwsgi_temp_path ${temp('uwsgi')};
    scgi_temp_path ${temp('scgi')};
    include ${temp('app.conf')};
}
`,
  );
  const logFile = temp('error.log');
  const child = launch(NGINX, ['-c', temp('nginx.conf'), '-p', dir, '-e', logFile, '-g', 'daemon off;'], dir, {}, temp('stdout.log'));
  return running('nginx', child, port, opts.appHost, dir, logFile);
}

/** Caddy with docs/proxies/Caddyfile, behind a global options block of the test's own. */
export async function startCaddy(opts: ProxyOptions): Promise<RunningProxy> {
  const dir = tempDir('caddy');
  const port = await freePort();
  const site = renderSnippet('Caddyfile', { SITE_ADDRESS: `http://${opts.appHost}:${port}`, PORTCULLIS: opts.portcullis, UPSTREAM: opts.upstream });
  // No admin endpoint, no automatic HTTPS (plain http on a test port). Caddy 2.6 has no
  // persist_config option: its autosave lands in XDG_CONFIG_HOME, inside the temp dir.
  fs.writeFileSync(
    path.join(dir, 'Caddyfile'),
    `{
	admin off
	auto_https off
	grace_period 1s
	storage file_system ${path.join(dir, 'data')}
}

${site}
`,
  );
  const logFile = path.join(dir, 'caddy.log');
  const env = { HOME: dir, XDG_DATA_HOME: path.join(dir, 'data'), XDG_CONFIG_HOME: path.join(dir, 'config') };
  const child = launch(CADDY, ['run', '--config', path.join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], dir, env, logFile);
  return running('caddy', child, port, opts.appHost, dir, logFile);
}

function tempDir(kind: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `portcullis-e2e-${kind}-`));
  dirs.add(dir);
  return dir;
}

function launch(cmd: string, args: string[], cwd: string, env: Record<string, string>, logFile: string): ChildProcess {
  if (!fs.existsSync(cmd)) throw new Error(`no ${cmd}: install Debian's package (.ci/run does)`);
  const log = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  live.add(child);
  return child;
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return Promise.race([new Promise<boolean>((r) => child.once('exit', () => r(true))), sleep(ms).then(() => false)]);
}

async function running(kind: RunningProxy['kind'], child: ChildProcess, port: number, appHost: string, dir: string, logFile: string): Promise<RunningProxy> {
  const proxy: RunningProxy = {
    kind,
    port,
    appHost,
    dir,
    logFile,
    urlFor: (p) => `http://${appHost}:${port}${p}`,
    async stop() {
      signalGroup(child, 'SIGTERM'); // nginx: fast shutdown; Caddy: graceful, grace_period 1s
      if (!(await exited(child, STOP_GRACE_MS))) {
        signalGroup(child, 'SIGKILL');
        await exited(child, STOP_GRACE_MS);
      }
      live.delete(child);
    },
  };
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = '';
  while (Date.now() < deadline) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      live.delete(child);
      throw new Error(`${kind} ${spawnError ? spawnError.message : `exited (code ${child.exitCode})`} before it answered; ${logFile}:\n${tailOfLog(logFile)}`);
    }
    try {
      // Any HTTP answer means it is listening (what the answer is, is the spec's business).
      await request(port, appHost, '/');
      return proxy;
    } catch (e) {
      lastError = (e as Error).message;
    }
    await sleep(100);
  }
  await proxy.stop();
  throw new Error(`${kind} did not answer within ${START_TIMEOUT_MS / 1000} s (${lastError}); ${logFile}:\n${tailOfLog(logFile)}`);
}

export interface PlainResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One request to 127.0.0.1:port with the given Host, outside the browser: for what a browser
 * cannot send (a Remote-User header of its own on a top-level navigation, say). No keep-alive.
 */
export function request(port: number, host: string, urlPath: string, headers: Record<string, string> = {}): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: urlPath, agent: false, timeout: 10_000, headers: { host: `${host}:${port}`, connection: 'close', ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk.length + body.length > 1_000_000 ? '' : chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/** The headers the upstream app reports back, the ones a proxy in front of it must own. */
export const remoteHeaders = ['remote-user', 'remote-email', 'remote-name', 'remote-groups', 'remote-methods'] as const;

export interface Seen {
  path: string;
  headers: Partial<Record<(typeof remoteHeaders)[number], string>>;
}

export interface Upstream {
  port: number;
  /** 127.0.0.1:PORT, for a proxy's upstream placeholder. */
  hostPort: string;
  /** Every request that reached the app, oldest first. */
  seen: Seen[];
  stop(): Promise<void>;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The protected app: a node:http server in the test process that answers every request
 * with an HTML page naming the path it got and the Remote-* headers it received
 * (data-testid `upstream-path` and `remote-user`, `remote-groups`, …; `(none)` when absent),
 * and records the same in `seen`.
 */
export async function startUpstream(): Promise<Upstream> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const got: Seen = { path: req.url ?? '', headers: {} };
    for (const name of remoteHeaders) {
      const value = req.headers[name];
      if (value !== undefined) got.headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    seen.push(got);
    const rows = remoteHeaders.map((name) => `<dt>${name}</dt><dd data-testid="${name}">${escapeHtml(got.headers[name] ?? '(none)')}</dd>`).join('');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
    res.end(`<!doctype html><title>Upstream app</title><main><h1>Upstream app</h1><p data-testid="upstream-path">${escapeHtml(got.path)}</p><dl>${rows}</dl></main>`);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port,
    hostPort: `127.0.0.1:${port}`,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
