import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { parseDatabaseUrl, type ParsedDatabaseUrl } from '../../db/url';
import { parseTrustedProxies, type TrustedProxies } from '../../scripts/client-address.mjs';
import { checkedCookieDomain } from '../auth/cookie';
import { parsePasswordNice, parsePasswordThreads } from '../auth/password-threads';
import { oneDay } from '../clock';
import { normalizeHost, parseHostRoutes, type HostResourceRoute } from '../gate/host-routes';
import { logLevels } from '../log/logger.cjs';
import { defaultFrom, defaultReminderOffsets, parseMailFrom, parseReminderOffsets, parseSmtpUrl } from '../mail/config';
import { invitationValidityMs } from './env';
import { parseOrigin } from './origin';
import { parseSecretList } from './secret';
import { shutdownTimeoutMs } from './shutdown-timeout.mjs';

/**
 * Every variable of README.md's "Environment" table, parsed and checked once at start
 * (lib/config/start-check.ts: `npm start`, `npm run worker`, `npm run cli`), each by the
 * parser the code that uses it runs, so a value refused here is the value that code would
 * have refused at the first request, and one accepted here reads the same there.
 *
 * Unset and empty are the same (`VAR=` in a unit file), as lib/config/env.ts reads them;
 * only PORTCULLIS_REMINDER_OFFSETS gives empty a meaning of its own (no reminders), as its
 * parser always has.
 */
export const configVariables = [
  'DATABASE_URL',
  'PORTCULLIS_DATA_DIR',
  'PORTCULLIS_SECRET',
  'PORTCULLIS_ORIGIN',
  'PORTCULLIS_COOKIE_DOMAIN',
  'PORTCULLIS_TRUSTED_PROXIES',
  'PORTCULLIS_RESOURCES',
  'PORTCULLIS_ENTRY_GATE',
  'PORT',
  'HOST',
  'SMTP_URL',
  'PORTCULLIS_MAIL_FROM',
  'PORTCULLIS_INVITATION_DAYS',
  'PORTCULLIS_REMINDER_OFFSETS',
  'PORTCULLIS_DISABLE_WORKER',
  'PORTCULLIS_PASSWORD_THREADS',
  'PORTCULLIS_PASSWORD_NICE',
  'LOG_LEVEL',
  'PORTCULLIS_METRICS_TOKEN',
  'PORTCULLIS_SHUTDOWN_TIMEOUT',
] as const;
export type ConfigVariable = (typeof configVariables)[number];

/** The configuration as the code uses it, every value checked, defaults filled in. */
export interface CheckedConfig {
  /** DATABASE_URL as given (undefined: the embedded default), and what it names. */
  databaseUrl: string | undefined;
  database: ParsedDatabaseUrl;
  dataDir: string;
  /** PORTCULLIS_SECRET's list, newest first; undefined: generated into the data dir (SQLite only). */
  secrets: string[] | undefined;
  origin: string;
  cookieDomain: string | undefined;
  trustedProxies: TrustedProxies;
  resources: HostResourceRoute[];
  entryGate: boolean;
  port: number;
  host: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  invitationDays: number;
  reminderOffsetsMs: number[];
  disableWorker: boolean;
  /** undefined: one per core, at most 4; 0: libuv's pool. */
  passwordThreads: number | undefined;
  passwordNice: number;
  logLevel: (typeof logLevels)[number];
  /** undefined: /metrics is off. */
  metricsToken: string | undefined;
  shutdownTimeoutSeconds: number;
}

export const defaultPort = 3000;
export const defaultHost = '0.0.0.0';
export const minimumMetricsTokenLength = 32;

const unset = (raw: string | undefined): raw is undefined | '' => raw === undefined || raw === '';

/** A variable read by `parse`; whatever it throws becomes the issue's message. */
function variable<T>(parse: (raw: string | undefined) => T) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      try {
        return parse(raw);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error | undefined)?.message ?? String(err) });
        return z.NEVER;
      }
    });
}

/** A variable whose unset (or empty) value is `fallback`, else `parse` of the text. */
function withDefault<T>(fallback: T, parse: (text: string) => T) {
  return variable((raw) => (unset(raw) ? fallback : parse(raw)));
}

function oneOf<T>(choices: Record<string, T>, fallback: T, refusal: string) {
  return withDefault(fallback, (text) => {
    if (!Object.hasOwn(choices, text)) throw new Error(refusal);
    return choices[text]!;
  });
}

function parsePort(text: string): number {
  // Written as the number itself: the entry server hands Next.js the text (scripts/server.mjs).
  const port = /^[1-9]\d{0,4}$/.test(text) ? Number(text) : NaN;
  if (!(port <= 65535)) throw new Error('PORT must be a whole number from 1 to 65535');
  return port;
}

function parseListenHost(text: string): string {
  const name = isIP(text) !== 0 || (!text.includes(':') && normalizeHost(text) === text.toLowerCase() && text === text.trim());
  if (!name) throw new Error('HOST must be an IP address or a host name to listen on, e.g. 0.0.0.0 or 127.0.0.1');
  return text;
}

/**
 * A token a scraper can send as `Authorization: Bearer <token>`: RFC 6750's b64token
 * characters only (what /metrics reads from the header), at least 32 of them.
 */
function parseMetricsToken(text: string): string {
  if (text.length < minimumMetricsTokenLength || !/^[A-Za-z0-9\-._~+/]+=*$/.test(text)) {
    throw new Error(
      `PORTCULLIS_METRICS_TOKEN must be at least ${minimumMetricsTokenLength} characters of A-Z, a-z, 0-9 and -._~+/ (e.g. openssl rand -hex 32); unset turns /metrics off`,
    );
  }
  return text;
}

function parseDataDir(text: string): string {
  if (text.includes('\0')) throw new Error('PORTCULLIS_DATA_DIR must be a directory path');
  return path.resolve(/*turbopackIgnore: true*/ text);
}

const fields = {
  // Checked alone here (its form); what an unset one names depends on the data dir, below.
  DATABASE_URL: withDefault<string | undefined>(undefined, (text) => (parseDatabaseUrl(text, '.'), text)),
  PORTCULLIS_DATA_DIR: variable((raw) => parseDataDir(unset(raw) ? 'data' : raw)),
  PORTCULLIS_SECRET: withDefault<string[] | undefined>(undefined, parseSecretList),
  PORTCULLIS_ORIGIN: withDefault<string | undefined>(undefined, parseOrigin),
  // Checked against the origin, below.
  PORTCULLIS_COOKIE_DOMAIN: withDefault<string | undefined>(undefined, (text) => text),
  PORTCULLIS_TRUSTED_PROXIES: variable((raw) => parseTrustedProxies(raw) as TrustedProxies),
  PORTCULLIS_RESOURCES: variable(parseHostRoutes),
  PORTCULLIS_ENTRY_GATE: oneOf({ on: true, off: false }, true, 'PORTCULLIS_ENTRY_GATE must be on or off'),
  PORT: withDefault(defaultPort, parsePort),
  HOST: withDefault(defaultHost, parseListenHost),
  SMTP_URL: withDefault<string | undefined>(undefined, parseSmtpUrl),
  PORTCULLIS_MAIL_FROM: withDefault<string | undefined>(undefined, parseMailFrom),
  PORTCULLIS_INVITATION_DAYS: variable((raw) => invitationValidityMs({ PORTCULLIS_INVITATION_DAYS: raw }) / oneDay),
  PORTCULLIS_REMINDER_OFFSETS: variable((raw) => {
    try {
      return parseReminderOffsets(raw ?? defaultReminderOffsets);
    } catch (err) {
      throw new Error(`PORTCULLIS_REMINDER_OFFSETS: ${(err as Error).message}`);
    }
  }),
  PORTCULLIS_DISABLE_WORKER: oneOf({ '1': true, '0': false }, false, 'PORTCULLIS_DISABLE_WORKER must be 1 (no mail worker in the web server) or 0'),
  PORTCULLIS_PASSWORD_THREADS: variable(parsePasswordThreads),
  PORTCULLIS_PASSWORD_NICE: variable(parsePasswordNice),
  LOG_LEVEL: withDefault<(typeof logLevels)[number]>('info', (text) => {
    const level = logLevels.find((l) => l === text);
    if (!level) throw new Error(`LOG_LEVEL must be one of ${logLevels.join(', ')}`);
    return level;
  }),
  PORTCULLIS_METRICS_TOKEN: withDefault<string | undefined>(undefined, parseMetricsToken),
  PORTCULLIS_SHUTDOWN_TIMEOUT: variable((raw) => shutdownTimeoutMs(raw) / 1000),
} satisfies Record<ConfigVariable, z.ZodType>;

/** The one schema: each variable alone, then what depends on another (run only when each is valid). */
export const configSchema = z.object(fields).transform((v, ctx): CheckedConfig => {
  const database = parseDatabaseUrl(v.DATABASE_URL, v.PORTCULLIS_DATA_DIR);
  if (database.dialect === 'postgres' && v.PORTCULLIS_SECRET === undefined) {
    // A generated secret lives in one instance's data dir; PostgreSQL means several instances.
    ctx.addIssue({ code: 'custom', path: ['PORTCULLIS_SECRET'], message: 'PORTCULLIS_SECRET is required when DATABASE_URL points at PostgreSQL' });
  }
  const origin = v.PORTCULLIS_ORIGIN ?? `http://localhost:${v.PORT}`;
  let cookieDomain: string | undefined;
  try {
    cookieDomain = v.PORTCULLIS_COOKIE_DOMAIN === undefined ? undefined : checkedCookieDomain(v.PORTCULLIS_COOKIE_DOMAIN, origin);
  } catch (err) {
    ctx.addIssue({ code: 'custom', path: ['PORTCULLIS_COOKIE_DOMAIN'], message: (err as Error).message });
  }
  return {
    databaseUrl: v.DATABASE_URL,
    database,
    dataDir: v.PORTCULLIS_DATA_DIR,
    secrets: v.PORTCULLIS_SECRET,
    origin,
    cookieDomain,
    trustedProxies: v.PORTCULLIS_TRUSTED_PROXIES,
    resources: v.PORTCULLIS_RESOURCES,
    entryGate: v.PORTCULLIS_ENTRY_GATE,
    port: v.PORT,
    host: v.HOST,
    smtpUrl: v.SMTP_URL,
    mailFrom: v.PORTCULLIS_MAIL_FROM ?? defaultFrom(origin),
    invitationDays: v.PORTCULLIS_INVITATION_DAYS,
    reminderOffsetsMs: v.PORTCULLIS_REMINDER_OFFSETS,
    disableWorker: v.PORTCULLIS_DISABLE_WORKER,
    passwordThreads: v.PORTCULLIS_PASSWORD_THREADS,
    passwordNice: v.PORTCULLIS_PASSWORD_NICE,
    logLevel: v.LOG_LEVEL,
    metricsToken: v.PORTCULLIS_METRICS_TOKEN,
    shutdownTimeoutSeconds: v.PORTCULLIS_SHUTDOWN_TIMEOUT,
  };
});

export type ConfigCheck = { ok: true; config: CheckedConfig } | { ok: false; problems: string[] };

/**
 * Checks `env`: the configuration, or one line per bad variable, each naming it and what is
 * wrong (never a secret's value), in the table's order.
 */
export function checkConfig(env: Readonly<Record<string, string | undefined>> = process.env): ConfigCheck {
  const input = Object.fromEntries(configVariables.map((name) => [name, env[name]]));
  const result = configSchema.safeParse(input);
  if (result.success) return { ok: true, config: result.data };
  const byVariable = new Map<string, string>();
  for (const issue of result.error.issues) {
    const name = String(issue.path[0] ?? '');
    if (byVariable.has(name)) continue;
    byVariable.set(name, issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`);
  }
  const order = (name: string) => configVariables.indexOf(name as ConfigVariable);
  return { ok: false, problems: [...byVariable].sort(([a], [b]) => order(a) - order(b)).map(([, line]) => line) };
}
