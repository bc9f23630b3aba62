import { describe, expect, it } from 'vitest';
import { unavailableHtmlFor, unavailableResponse } from '../../../lib/gate/unavailable';

/*
 * R-D10's 503 page, rendered without the database. Personas: Sam, signed in, whose portal
 * lost its database mid-session; Val, a visitor with no session cookie.
 */
describe('the 503 page', () => {
  it('tells Sam, who is signed in, that his access can’t be checked, not that sign-in is down', () => {
    const html = unavailableHtmlFor('signed_in');
    expect(html).toContain('You are still signed in');
    expect(html).not.toContain('Sign-in is temporarily unavailable');
  });

  it('tells Val, with no session, that sign-in is unavailable', () => {
    expect(unavailableHtmlFor('anyone')).toContain('Sign-in is temporarily unavailable');
  });

  it.each(['signed_in', 'anyone'] as const)('is a page of ours for %s: one main landmark, a title, a way to try again, styled without a <style> element', (audience) => {
    const html = unavailableHtmlFor(audience);
    expect(html.match(/<main[\s>]/g)).toHaveLength(1);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<title>Temporarily unavailable · Portcullis</title>');
    expect(html).toContain('<h1');
    expect(html).toMatch(/<a href="">Try again<\/a>|<a href="" [^>]*>Try again<\/a>/);
    expect(html).toContain('name="viewport"');
    // The CSP allows style attributes, never an un-nonced <style> or <script>.
    expect(html).not.toMatch(/<style|<script/);
  });

  it('answers 503 with retry-after and no caching, signed in or not', async () => {
    for (const audience of ['signed_in', 'anyone'] as const) {
      const response = unavailableResponse(audience);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('30');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.text()).toBe(unavailableHtmlFor(audience));
    }
    expect(await unavailableResponse().text()).toBe(unavailableHtmlFor('anyone'));
  });
});
