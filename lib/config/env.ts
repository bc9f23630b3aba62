import path from 'node:path';
import { oneDay } from '../clock';

/**
 * Everything the server reads from the environment, in one place, so the README's table
 * of variables has exactly one source to stay true to.
 */
export interface PortcullisEnv {
  /** Unset → SQLite file in the data dir; `file:<path>`; or `postgres://…`. */
  databaseUrl: string | undefined;
  /** Where the embedded default keeps its database and generated secret. */
  dataDir: string;
  /** Secret for cookies and encryption at rest; generated on first start for the embedded default. */
  secret: string | undefined;
  /** Public origin of the portal, e.g. https://mfa.example.com (links, WebAuthn RP, cookie security). */
  origin: string;
  /** Trusted reverse proxies: a hop count ("1") or a comma list of addresses (R-I1). Unset → none. */
  trustedProxies: string | undefined;
  smtpUrl: string | undefined;
  /**
   * Resources on other hosts, for the forward-auth endpoints and remote gates:
   * `host/prefix=resource` entries separated by commas or whitespace (lib/gate/host-routes.ts).
   * Unset → only the portal's own paths (portcullis.config.ts).
   */
  resources: string | undefined;
  /** Parent domain the session cookie is valid on (e.g. `example.com`), for protected subdomains. Unset → the portal's host only. */
  cookieDomain: string | undefined;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): PortcullisEnv {
  const port = env.PORT || '3000';
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(/*turbopackIgnore: true*/ env.PORTCULLIS_DATA_DIR || 'data'),
    secret: env.PORTCULLIS_SECRET || undefined,
    origin: (env.PORTCULLIS_ORIGIN || `http://localhost:${port}`).replace(/\/+$/, ''),
    trustedProxies: env.PORTCULLIS_TRUSTED_PROXIES || undefined,
    smtpUrl: env.SMTP_URL || undefined,
    resources: env.PORTCULLIS_RESOURCES || undefined,
    cookieDomain: env.PORTCULLIS_COOKIE_DOMAIN || undefined,
  };
}

export const defaultInvitationDays = 7;
export const maxInvitationDays = 30;

export class InvalidEnvError extends Error {
  override name = 'InvalidEnvError';
}

/**
 * How long an invitation link is valid: PORTCULLIS_INVITATION_DAYS, whole days from 1 to 30,
 * 7 when unset. Read when an invitation is issued or started (not in readEnv(), which every
 * request reads); the check at start (lib/config/schema.ts) runs it first, so a bad value
 * stops the start with this message.
 * @throws InvalidEnvError for anything else, never a silent default
 */
export function invitationValidityMs(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env.PORTCULLIS_INVITATION_DAYS?.trim();
  if (!raw) return defaultInvitationDays * oneDay;
  const days = /^\d{1,2}$/.test(raw) ? Number(raw) : NaN;
  if (!(days >= 1 && days <= maxInvitationDays)) {
    throw new InvalidEnvError(`PORTCULLIS_INVITATION_DAYS "${raw.slice(0, 20)}": must be a whole number of days from 1 to ${maxInvitationDays}`);
  }
  return days * oneDay;
}
