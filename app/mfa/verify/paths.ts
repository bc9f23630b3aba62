/** The verify page's URL for a method, an error and the way back. */
export function verifyPath(options: {
  returnTo: string;
  fresh?: boolean;
  method?: 'totp' | 'recovery';
  error?: string;
  retryAfterMs?: number;
}): string {
  const params = new URLSearchParams({ returnTo: options.returnTo });
  if (options.fresh) params.set('fresh', '1');
  if (options.method && options.method !== 'totp') params.set('method', options.method);
  if (options.error) params.set('error', options.error);
  if (options.retryAfterMs !== undefined) params.set('wait', String(Math.ceil(options.retryAfterMs / 1000)));
  return `/mfa/verify?${params.toString()}`;
}
