/** Where a Duo attempt that could not reach Duo ends up: the "Duo is unavailable" page. */
export function duoUnavailablePath(returnTo: string, fresh: boolean): string {
  const params = new URLSearchParams({ returnTo });
  if (fresh) params.set('fresh', '1');
  return `/mfa/duo/unavailable?${params.toString()}`;
}
