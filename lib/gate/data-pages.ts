import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { getMfaSettingsRow } from '../../db/queries/settings';
import { normalizePath } from './paths';

/**
 * Pages that belong to no resource (the gate lets them through undecided) yet read the
 * database to render: the second-factor pages under /mfa. When the database can't answer,
 * rendering them would fail with a 500; the gate probes first and answers the plain 503
 * page instead (R-D10). The probe's row also names the Duo API host, which the pages that
 * start a Duo prompt add to the CSP's form-action.
 */
export const defaultDataPages: readonly string[] = ['/mfa'];

/** Whether a GET of `pathname` is a data page under one of `prefixes` (normalised; odd encodings count). */
export function isDataPage(pathname: string, prefixes: readonly string[]): boolean {
  const path = normalizePath(pathname);
  if (path === null) return prefixes.length > 0;
  return prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

export interface DataPageProbe {
  /** The Duo API host when Duo is enabled and configured, else null. */
  duoApiHost: string | null;
}

/** One primary-key read of the org MFA settings; throws when the database can't answer. */
export async function probeDataPage(db: Kysely<Database>): Promise<DataPageProbe> {
  const row = await getMfaSettingsRow(db);
  return { duoApiHost: row.duo_enabled === 1 && row.duo_api_host ? row.duo_api_host : null };
}

/** The pages whose forms lead to Duo (the Duo button posts to /mfa/duo/start, which redirects there). */
export function startsDuo(pathname: string): boolean {
  const path = normalizePath(pathname);
  return path === '/mfa/verify' || path === '/mfa/duo' || (path?.startsWith('/mfa/duo/') ?? false);
}
