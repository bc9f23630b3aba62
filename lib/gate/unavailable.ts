/** R-D10: what every failure to reach the data layer looks like: plain, 503, no details. */
export const unavailableHtml = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title></head><body style="font-family:system-ui,sans-serif;margin:3rem"><h1>Temporarily unavailable</h1><p>Sign-in is temporarily unavailable. Please try again in a few minutes.</p></body></html>`;

export function unavailableResponse(): Response {
  return new Response(unavailableHtml, {
    status: 503,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '30' },
  });
}
