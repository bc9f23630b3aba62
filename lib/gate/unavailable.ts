/**
 * R-D10: what every failure to reach the data layer looks like: 503, no details, no database
 * needed to render it. The page is a self-contained string in the portal's look (inline
 * style attributes only: the CSP allows those, and a `<style>` element would need the
 * request's nonce), with a <main> landmark, a title and a way to try again.
 */

/**
 * Who is asking, as far as the gate can tell without the database: someone whose browser
 * holds a session cookie was signed in, so "sign-in is unavailable" would be wrong for them.
 */
export type UnavailableAudience = 'signed_in' | 'anyone';

const messages: Record<UnavailableAudience, string> = {
  signed_in: 'We can’t check your access right now, so this page can’t open. You are still signed in: try again in a few minutes.',
  anyone: 'Sign-in is temporarily unavailable. Please try again in a few minutes.',
};

const page = (message: string): string =>
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
  '<title>Temporarily unavailable · Portcullis</title></head>' +
  '<body style="margin:0;background:#f5f6f8;color:#1d2330;font-family:system-ui,-apple-system,\'Segoe UI\',Roboto,\'Helvetica Neue\',Arial,sans-serif">' +
  '<main id="main" style="max-width:40rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12)">' +
  '<h1 style="font-size:1.5rem;margin-top:0">Temporarily unavailable</h1>' +
  `<p>${message}</p>` +
  '<p><a href="" style="color:#2450a6">Try again</a></p>' +
  '</main></body></html>';

const pages: Record<UnavailableAudience, string> = { signed_in: page(messages.signed_in), anyone: page(messages.anyone) };

/** The page for someone the gate knows nothing about (no session cookie). */
export const unavailableHtml = pages.anyone;

/** The page's HTML for `audience`. */
export function unavailableHtmlFor(audience: UnavailableAudience): string {
  return pages[audience];
}

/**
 * The 503 answer. Pass `signed_in` when the request carries a session cookie (even one that
 * can't be checked now), so the person is not told to sign in again.
 *
 * @param audience @default 'anyone'
 */
export function unavailableResponse(audience: UnavailableAudience = 'anyone'): Response {
  return new Response(pages[audience], {
    status: 503,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '30' },
  });
}
