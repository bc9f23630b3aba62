/** The verify page's URL for a method, an error and the way back. */
export function verifyPath(options: {
  returnTo: string;
  fresh?: boolean;
  /** Why a fresh second factor is asked for: `factor_change` (R-E8) says so on the page. */
  why?: 'factor_change';
  method?: 'totp' | 'recovery';
  error?: string;
  retryAfterMs?: number;
}): string {
  const params = new URLSearchParams({ returnTo: options.returnTo });
  if (options.fresh) params.set('fresh', '1');
  if (options.why) params.set('why', options.why);
  if (options.method && options.method !== 'totp') params.set('method', options.method);
  if (options.error) params.set('error', options.error);
  if (options.retryAfterMs !== undefined) params.set('wait', String(Math.ceil(options.retryAfterMs / 1000)));
  return `/mfa/verify?${params.toString()}`;
}
