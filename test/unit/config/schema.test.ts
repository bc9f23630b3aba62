import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { oneDay, oneHour } from '../../../lib/clock';
import { checkConfig, configVariables, type CheckedConfig } from '../../../lib/config/schema';
import { readEnv } from '../../../lib/config/env';

/*
 * The configuration checked at start (lib/config/schema.ts). Personas: Olga, the operator,
 * who writes the environment of her deployment; Pia, who runs the embedded default with no
 * configuration at all.
 */
const secret = 'olgas-secret-0123456789abcdef-0123456789';
const older = 'olgas-older-secret-0123456789abcdef-01234';
const pg = 'postgres://portcullis:pg-pass-word@db.internal:5432/portcullis';

function valid(env: Record<string, string | undefined>): CheckedConfig {
  const result = checkConfig(env);
  if (!result.ok) throw new Error(`expected a valid configuration, got: ${result.problems.join(' | ')}`);
  return result.config;
}

function problems(env: Record<string, string | undefined>): string[] {
  const result = checkConfig(env);
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.problems;
}

describe('Pia, with no configuration at all, gets the embedded defaults', () => {
  const config = valid({});

  it('SQLite under ./data, a generated secret, http://localhost:3000 on 0.0.0.0:3000', () => {
    expect(config.dataDir).toBe(path.resolve('data'));
    expect(config.database).toEqual({ dialect: 'sqlite', file: path.resolve('data', 'portcullis.db') });
    expect(config.secrets).toBeUndefined();
    expect(config.origin).toBe('http://localhost:3000');
    expect([config.host, config.port]).toEqual(['0.0.0.0', 3000]);
  });

  it('no proxy trusted, no other resources, the entry gate on, the mail worker in the server, mail to the outbox', () => {
    expect(config.trustedProxies).toEqual({ kind: 'none' });
    expect(config.resources).toEqual([]);
    expect(config.entryGate).toBe(true);
    expect(config.disableWorker).toBe(false);
    expect(config.smtpUrl).toBeUndefined();
    expect(config.mailFrom).toBe('Portcullis <no-reply@localhost>');
    expect(config.cookieDomain).toBeUndefined();
  });

  it('invitations for 7 days, reminders 3 and 1 days ahead, password threads by core at nice 10, log level info', () => {
    expect(config.invitationDays).toBe(7);
    expect(config.reminderOffsetsMs).toEqual([3 * oneDay, oneDay]);
    expect(config.passwordThreads).toBeUndefined();
    expect(config.passwordNice).toBe(10);
    expect(config.logLevel).toBe('info');
  });

  it('/metrics off, 25 s to finish requests on SIGTERM', () => {
    expect(config.metricsToken).toBeUndefined();
    expect(config.shutdownTimeoutSeconds).toBe(25);
  });

  it('an empty variable is the same as an unset one, as `VAR=` in a unit file reads', () => {
    const empty = Object.fromEntries(configVariables.filter((name) => name !== 'PORTCULLIS_REMINDER_OFFSETS').map((name) => [name, '']));
    expect(valid(empty)).toEqual(config);
  });
});

describe("Olga's production configuration is read as the code reads it", () => {
  const env = {
    DATABASE_URL: pg,
    PORTCULLIS_SECRET: `${secret},${older}`,
    PORTCULLIS_ORIGIN: 'https://portal.example.com/',
    PORTCULLIS_COOKIE_DOMAIN: 'example.com',
    PORTCULLIS_TRUSTED_PROXIES: '10.0.0.5, ::ffff:10.0.0.6, 2001:db8::1',
    PORTCULLIS_RESOURCES: 'wiki.example.com=wiki, example.com/billing=billing',
    PORTCULLIS_ENTRY_GATE: 'off',
    PORT: '8080',
    HOST: '127.0.0.1',
    SMTP_URL: 'smtps://mailer:mail-pass@smtp.example.com:465',
    PORTCULLIS_MAIL_FROM: 'Example MFA <mfa@example.com>',
    PORTCULLIS_INVITATION_DAYS: '14',
    PORTCULLIS_REMINDER_OFFSETS: '2d,12h',
    PORTCULLIS_DISABLE_WORKER: '1',
    PORTCULLIS_PASSWORD_THREADS: '0',
    PORTCULLIS_PASSWORD_NICE: '5',
    LOG_LEVEL: 'warn',
    PORTCULLIS_METRICS_TOKEN: 'olgas-metrics_token.0123456789~+/abcdef==',
    PORTCULLIS_SHUTDOWN_TIMEOUT: '60',
  };
  const config = valid(env);

  it('every value as given, parsed by the parser its user runs', () => {
    expect(config.database).toEqual({ dialect: 'postgres', connectionString: pg });
    expect(config.secrets).toEqual([secret, older]);
    expect(config.origin).toBe('https://portal.example.com');
    expect(config.cookieDomain).toBe('example.com');
    expect(config.trustedProxies).toEqual({ kind: 'addresses', addresses: new Set(['10.0.0.5', '10.0.0.6', '2001:db8::1']) });
    expect(config.resources).toEqual([
      { host: 'wiki.example.com', prefix: '/', resource: 'wiki' },
      { host: 'example.com', prefix: '/billing', resource: 'billing' },
    ]);
    expect([config.entryGate, config.port, config.host, config.disableWorker]).toEqual([false, 8080, '127.0.0.1', true]);
    expect([config.smtpUrl, config.mailFrom]).toEqual([env.SMTP_URL, 'Example MFA <mfa@example.com>']);
    expect([config.invitationDays, config.reminderOffsetsMs]).toEqual([14, [2 * oneDay, 12 * oneHour]]);
    expect([config.passwordThreads, config.passwordNice, config.logLevel]).toEqual([0, 5, 'warn']);
    expect([config.metricsToken, config.shutdownTimeoutSeconds]).toEqual([env.PORTCULLIS_METRICS_TOKEN, 60]);
  });

  it('the origin and data dir agree with what every request reads (lib/config/env.ts)', () => {
    const read = (given: Record<string, string>) => readEnv(given as NodeJS.ProcessEnv);
    expect(config.origin).toBe(read(env).origin);
    expect(config.dataDir).toBe(read(env).dataDir);
    expect(valid({ PORT: '4000' }).origin).toBe(read({ PORT: '4000' }).origin);
  });

  it('without PORTCULLIS_MAIL_FROM, mail comes from no-reply at the origin’s host', () => {
    expect(valid({ PORTCULLIS_ORIGIN: 'https://portal.example.com' }).mailFrom).toBe('Portcullis <no-reply@portal.example.com>');
  });

  it('a hop count for proxies, a SQLite file of her own, an empty reminder list (none)', () => {
    const other = valid({ PORTCULLIS_TRUSTED_PROXIES: '2', DATABASE_URL: 'file:/srv/portcullis/p.db', PORTCULLIS_REMINDER_OFFSETS: '' });
    expect(other.trustedProxies).toEqual({ kind: 'hops', hops: 2 });
    expect(other.database).toEqual({ dialect: 'sqlite', file: '/srv/portcullis/p.db' });
    expect(other.reminderOffsetsMs).toEqual([]);
  });
});

describe('each bad value is refused with one line naming the variable', () => {
  it.each([
    // The five of issue #17.
    ['a malformed DATABASE_URL', { DATABASE_URL: 'mysql://portcullis@db/portcullis' }, 'DATABASE_URL must be file:<path>, sqlite:<path> or postgres://…'],
    ['a short secret', { PORTCULLIS_SECRET: 'too-short' }, 'PORTCULLIS_SECRET must be at least 32 characters'],
    ['an origin with a path', { PORTCULLIS_ORIGIN: 'https://portal.example.com/mfa' }, 'PORTCULLIS_ORIGIN must be an http(s) origin such as https://portal.example.com, without a path'],
    [
      'a proxy list with a host name in it',
      { PORTCULLIS_TRUSTED_PROXIES: '10.0.0.5, proxy.internal' },
      'PORTCULLIS_TRUSTED_PROXIES: "proxy.internal" is not an IP address (give a hop count, or proxy addresses separated by commas)',
    ],
    ['an unknown reminder offset', { PORTCULLIS_REMINDER_OFFSETS: '3d,1w' }, 'PORTCULLIS_REMINDER_OFFSETS: Reminder offset "1w" is not a duration like 3d, 12h or 30m (at most 365d).'],
    // And the rest of the table.
    ['a postgres URL with a bad port', { DATABASE_URL: 'postgres://u:p@db:port/x', PORTCULLIS_SECRET: secret }, /^DATABASE_URL is not a readable postgres:\/\/ URL/],
    ['a data dir with a NUL byte', { PORTCULLIS_DATA_DIR: 'data\0x' }, 'PORTCULLIS_DATA_DIR must be a directory path'],
    ['a secret list with an empty entry', { PORTCULLIS_SECRET: `${secret},,${older}` }, /^PORTCULLIS_SECRET has an empty entry/],
    ['an older secret too short', { PORTCULLIS_SECRET: `${secret},short` }, 'PORTCULLIS_SECRET (entry 2) must be at least 32 characters'],
    ['an origin of another scheme', { PORTCULLIS_ORIGIN: 'ftp://portal.example.com' }, /^PORTCULLIS_ORIGIN .*, not ftp:$/],
    ['an origin with user info', { PORTCULLIS_ORIGIN: 'https://olga:pw@portal.example.com' }, /^PORTCULLIS_ORIGIN .*, without user info$/],
    ['an origin with a query', { PORTCULLIS_ORIGIN: 'https://portal.example.com?x=1' }, /, without a query$/],
    ['an origin with a fragment', { PORTCULLIS_ORIGIN: 'https://portal.example.com#top' }, /, without a fragment$/],
    ['an origin that is no URL', { PORTCULLIS_ORIGIN: 'portal.example.com' }, /: this is not a URL$/],
    ['an origin not written as browsers send it', { PORTCULLIS_ORIGIN: 'https://Portal.example.com:443' }, 'PORTCULLIS_ORIGIN must be written as https://portal.example.com (lower case, no default port, no spaces)'],
    ['a cookie domain of one label', { PORTCULLIS_COOKIE_DOMAIN: 'com', PORTCULLIS_ORIGIN: 'https://portal.example.com' }, /^PORTCULLIS_COOKIE_DOMAIN "com": must have at least two labels/],
    ['a cookie domain beside the origin', { PORTCULLIS_COOKIE_DOMAIN: 'example.org', PORTCULLIS_ORIGIN: 'https://portal.example.com' }, /^PORTCULLIS_COOKIE_DOMAIN "example.org": must be PORTCULLIS_ORIGIN's host name/],
    ['a cookie domain that is an IP address', { PORTCULLIS_COOKIE_DOMAIN: '10.0.0.1' }, /^PORTCULLIS_COOKIE_DOMAIN "10.0.0.1": must be a domain name, not an IP address/],
    ['a hop count of 0', { PORTCULLIS_TRUSTED_PROXIES: '0' }, 'PORTCULLIS_TRUSTED_PROXIES hop count must be 1–10'],
    ['a proxy range', { PORTCULLIS_TRUSTED_PROXIES: '10.0.0.0/8' }, /^PORTCULLIS_TRUSTED_PROXIES: "10.0.0.0\/8" is not an IP address/],
    ['a proxy list with an empty entry', { PORTCULLIS_TRUSTED_PROXIES: '10.0.0.5,,10.0.0.6' }, /^PORTCULLIS_TRUSTED_PROXIES has an empty entry/],
    ['a resource entry without a resource', { PORTCULLIS_RESOURCES: 'wiki.example.com' }, 'PORTCULLIS_RESOURCES: "wiki.example.com" is not host/prefix=resource'],
    ['an entry gate neither on nor off', { PORTCULLIS_ENTRY_GATE: 'yes' }, 'PORTCULLIS_ENTRY_GATE must be on or off'],
    ['a port out of range', { PORT: '70000' }, 'PORT must be a whole number from 1 to 65535'],
    ['a port with a leading zero', { PORT: '03000' }, 'PORT must be a whole number from 1 to 65535'],
    ['a port that is not a number', { PORT: 'http' }, 'PORT must be a whole number from 1 to 65535'],
    ['a host with a port', { HOST: '127.0.0.1:3000' }, /^HOST must be an IP address or a host name/],
    ['an SMTP URL of another scheme', { SMTP_URL: 'http://mail.example.com' }, 'SMTP_URL must start with smtp:// or smtps://'],
    ['an SMTP URL that is no URL', { SMTP_URL: 'mail.example.com:587' }, /^SMTP_URL must start with smtp:\/\/ or smtps:\/\/|^SMTP_URL is not a readable URL/],
    ['a From with two addresses', { PORTCULLIS_MAIL_FROM: 'a@example.com, b@example.com' }, /^PORTCULLIS_MAIL_FROM must be one address/],
    ['a From with a line break', { PORTCULLIS_MAIL_FROM: 'MFA <mfa@example.com>\r\nBcc: x@evil.example' }, /^PORTCULLIS_MAIL_FROM must be one address/],
    ['invitation days out of range', { PORTCULLIS_INVITATION_DAYS: '31' }, /^PORTCULLIS_INVITATION_DAYS "31": must be a whole number of days from 1 to 30/],
    ['a worker switch that is not 0 or 1', { PORTCULLIS_DISABLE_WORKER: 'true' }, 'PORTCULLIS_DISABLE_WORKER must be 1 (no mail worker in the web server) or 0'],
    ['too many password threads', { PORTCULLIS_PASSWORD_THREADS: '65' }, /^PORTCULLIS_PASSWORD_THREADS must be a whole number from 0/],
    ['a negative niceness', { PORTCULLIS_PASSWORD_NICE: '-5' }, 'PORTCULLIS_PASSWORD_NICE must be a whole number from 0 to 19'],
    ['an unknown log level', { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent'],
    ['a log level in capitals (pino reads lower case only)', { LOG_LEVEL: 'INFO' }, /^LOG_LEVEL must be one of/],
    ['a short metrics token', { PORTCULLIS_METRICS_TOKEN: 'short-token' }, /^PORTCULLIS_METRICS_TOKEN must be at least 32 characters/],
    ['a metrics token no Bearer header can carry', { PORTCULLIS_METRICS_TOKEN: 'long enough but with spaces and a # in it!' }, /^PORTCULLIS_METRICS_TOKEN must be at least 32 characters of A-Z/],
    ['a shutdown timeout of 0', { PORTCULLIS_SHUTDOWN_TIMEOUT: '0' }, 'PORTCULLIS_SHUTDOWN_TIMEOUT "0": must be whole seconds from 1 to 600'],
    ['a shutdown timeout past 10 minutes', { PORTCULLIS_SHUTDOWN_TIMEOUT: '601' }, 'PORTCULLIS_SHUTDOWN_TIMEOUT "601": must be whole seconds from 1 to 600'],
    ['a shutdown timeout with a unit', { PORTCULLIS_SHUTDOWN_TIMEOUT: '25s' }, 'PORTCULLIS_SHUTDOWN_TIMEOUT "25s": must be whole seconds from 1 to 600'],
  ] as const)('%s', (_case, env, line) => {
    const lines = problems(env);
    expect(lines).toHaveLength(1);
    if (typeof line === 'string') expect(lines[0]).toBe(line);
    else expect(lines[0]).toMatch(line);
  });

  it('PostgreSQL without PORTCULLIS_SECRET: a generated secret would differ per instance', () => {
    expect(problems({ DATABASE_URL: pg })).toEqual(['PORTCULLIS_SECRET is required when DATABASE_URL points at PostgreSQL']);
  });

  it('no line repeats a secret, the metrics token or a password in a URL', () => {
    const lines = [
      ...problems({ PORTCULLIS_SECRET: 'sekrit-value-too-short' }),
      ...problems({ PORTCULLIS_SECRET: `${secret},sekrit-value-too-short` }),
      ...problems({ PORTCULLIS_METRICS_TOKEN: 'sekrit value with spaces, long enough to pass 32' }),
      ...problems({ DATABASE_URL: 'postgres://olga:sekrit@db:port/x' }),
      ...problems({ DATABASE_URL: 'postgres://olga:sekrit%zz@db/x', PORTCULLIS_SECRET: secret }),
      ...problems({ SMTP_URL: 'ftp://olga:sekrit@mail.example.com' }),
      ...problems({ SMTP_URL: 'smtp://olga:sekrit%zz@mail.example.com' }),
      ...problems({ PORTCULLIS_ORIGIN: 'https://olga:sekrit@portal.example.com' }),
    ];
    expect(lines).toHaveLength(8);
    for (const line of lines) expect(line).not.toContain('sekrit');
  });

  it('two bad values: a line for each, in the order of the README table', () => {
    expect(problems({ LOG_LEVEL: 'loud', DATABASE_URL: 'mongodb://x' })).toEqual([
      'DATABASE_URL must be file:<path>, sqlite:<path> or postgres://…',
      'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent',
    ]);
  });
});

describe('the README documents exactly the variables the schema checks', () => {
  it("every name in the Environment table is checked, and every checked name is in the table", () => {
    const readme = fs.readFileSync(path.join(__dirname, '../../../README.md'), 'utf8');
    const lines = readme.slice(readme.indexOf('\n| variable | default | meaning |') + 1).split('\n');
    const rows = lines.slice(2, lines.findIndex((line) => !line.startsWith('|')));
    const names = rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!));
    expect(new Set(names)).toEqual(new Set(configVariables));
  });
});

describe('a data dir given relative is the absolute path the database and secret go under', () => {
  it('resolved from the working directory, as the server resolves it', () => {
    const config = valid({ PORTCULLIS_DATA_DIR: 'var/portcullis' });
    expect(config.dataDir).toBe(path.resolve('var/portcullis'));
    expect(config.database).toEqual({ dialect: 'sqlite', file: path.join(path.resolve('var/portcullis'), 'portcullis.db') });
    expect(valid({ PORTCULLIS_DATA_DIR: os.tmpdir() }).dataDir).toBe(os.tmpdir());
  });
});
