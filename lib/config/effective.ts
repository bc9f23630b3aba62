import path from 'node:path';
import { defaultPasswordThreads } from '../auth/password-threads';
import { configVariables, type CheckedConfig, type ConfigVariable } from './schema';

/**
 * The effective configuration for `npm run cli -- check-config`: every variable, the value
 * the code uses, and whether it came from the environment or is the default. Secrets never
 * appear: PORTCULLIS_SECRET and PORTCULLIS_METRICS_TOKEN are shown as masked, and the
 * passwords inside DATABASE_URL and SMTP_URL as `***`.
 */
export interface EffectiveSetting {
  name: ConfigVariable;
  source: 'environment' | 'default';
  value: string;
}

const mask = '***';
// Query options of a connection URL that carry credentials (pg's `password`, `sslpassword`, `sslkey`…).
const secretParameter = /pass|secret|key|token/i;

/**
 * A connection URL with its password, and any query option that carries a credential, as
 * `***`; the user, host, port, database and other options stay readable.
 * @example maskUrl('postgres://app:s3cret@db/portcullis') // 'postgres://app:***@db/portcullis'
 */
export function maskUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return mask;
  }
  if (parsed.password) parsed.password = mask;
  for (const name of [...parsed.searchParams.keys()]) {
    if (secretParameter.test(name)) parsed.searchParams.set(name, mask);
  }
  return parsed.toString().replace(/%2A%2A%2A/g, mask);
}

function formatOffset(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function describe(name: ConfigVariable, c: CheckedConfig): string {
  switch (name) {
    case 'DATABASE_URL':
      return c.database.dialect === 'sqlite' ? `file:${c.database.file} (SQLite)` : `${maskUrl(c.database.connectionString)} (PostgreSQL)`;
    case 'PORTCULLIS_DATA_DIR':
      return c.dataDir;
    case 'PORTCULLIS_SECRET':
      return c.secrets === undefined
        ? `the file ${path.join(c.dataDir, 'secret')} (generated on first start, mode 0600)`
        : `${mask} (${c.secrets.length === 1 ? 'one secret' : `${c.secrets.length} secrets, newest first`}, masked)`;
    case 'PORTCULLIS_ORIGIN':
      return c.origin;
    case 'PORTCULLIS_COOKIE_DOMAIN':
      return c.cookieDomain ?? "unset: the portal's host only";
    case 'PORTCULLIS_TRUSTED_PROXIES':
      return c.trustedProxies.kind === 'none'
        ? 'none: no proxy trusted'
        : c.trustedProxies.kind === 'hops'
          ? `${c.trustedProxies.hops} hop${c.trustedProxies.hops === 1 ? '' : 's'}`
          : [...c.trustedProxies.addresses].join(', ');
    case 'PORTCULLIS_RESOURCES':
      return c.resources.length === 0 ? "none: only the portal's own paths" : c.resources.map((r) => `${r.host}${r.prefix}=${r.resource}`).join(', ');
    case 'PORTCULLIS_ENTRY_GATE':
      return c.entryGate ? 'on' : 'off';
    case 'PORT':
      return String(c.port);
    case 'HOST':
      return c.host;
    case 'SMTP_URL':
      return c.smtpUrl === undefined ? 'unset: messages stay in the outbox table' : maskUrl(c.smtpUrl);
    case 'PORTCULLIS_MAIL_FROM':
      return c.mailFrom;
    case 'PORTCULLIS_INVITATION_DAYS':
      return `${c.invitationDays} day${c.invitationDays === 1 ? '' : 's'}`;
    case 'PORTCULLIS_REMINDER_OFFSETS':
      return c.reminderOffsetsMs.length === 0 ? 'none' : c.reminderOffsetsMs.map(formatOffset).join(',');
    case 'PORTCULLIS_DISABLE_WORKER':
      return c.disableWorker ? '1: no mail worker in the web server' : '0: the web server runs the mail worker';
    case 'PORTCULLIS_PASSWORD_THREADS':
      return c.passwordThreads === undefined
        ? `${defaultPasswordThreads()} (one per core, at most 4)`
        : c.passwordThreads === 0
          ? "0: libuv's thread pool"
          : String(c.passwordThreads);
    case 'PORTCULLIS_PASSWORD_NICE':
      return String(c.passwordNice);
    case 'LOG_LEVEL':
      return c.logLevel;
    case 'PORTCULLIS_METRICS_TOKEN':
      return c.metricsToken === undefined ? 'unset: /metrics is off' : `${mask} (masked)`;
    case 'PORTCULLIS_SHUTDOWN_TIMEOUT':
      return `${c.shutdownTimeoutSeconds} s`;
  }
}

/** Every variable of the table, in its order, as the checked configuration has it. */
export function effectiveConfig(config: CheckedConfig, env: Readonly<Record<string, string | undefined>>): EffectiveSetting[] {
  return configVariables.map((name) => {
    const raw = env[name];
    // An empty PORTCULLIS_REMINDER_OFFSETS is a value (no reminders); elsewhere empty is unset.
    const given = name === 'PORTCULLIS_REMINDER_OFFSETS' ? raw !== undefined : raw !== undefined && raw !== '';
    return { name, source: given ? 'environment' : 'default', value: describe(name, config) };
  });
}

/** The lines `check-config` prints: one per variable, `NAME  source  value`, aligned. */
export function formatEffectiveConfig(settings: readonly EffectiveSetting[]): string[] {
  const width = Math.max(...settings.map((s) => s.name.length));
  return settings.map((s) => `${s.name.padEnd(width)}  ${s.source.padEnd(11)}  ${s.value}`);
}
