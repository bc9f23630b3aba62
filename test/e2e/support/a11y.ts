import fs from 'node:fs';
import { expect, type Locator, type Page } from '@playwright/test';

/** WCAG 2.0 and 2.1, levels A and AA, plus axe's best practices (landmarks, headings, regions). */
export const axeTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

export const desktop = { width: 1280, height: 900 };
export const phone = { width: 390, height: 844 };

/** axe-core's own build, put into a page by `page.evaluate` (which the page's CSP does not govern). */
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * One line per axe violation: rule, what it asks, and the first few elements it found.
 * axe-core directly rather than @axe-core/playwright's builder: the builder puts the 500 kB
 * script into the page again on every check, which cost 0.75 s a check against 0.1 s for the
 * check itself (measured on the sign-in page). Here it goes in once per document, the two
 * widths' checks share it, and only violations are collected. The pages have no iframes.
 */
export async function axeViolations(page: Page): Promise<{ id: string; line: string }[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(
    (tags) =>
      (window as unknown as { axe: typeof import('axe-core') }).axe
        .run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
        .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }))),
    axeTags,
  );
  return violations.map((v) => {
    const more = v.targets.length > 3 ? ` and ${v.targets.length - 3} more` : '';
    return { id: v.id, line: `${v.id} (${v.impact}): ${v.help} at ${v.targets.slice(0, 3).join(', ')}${more}` };
  });
}

/**
 * The elements that reach past the viewport's right edge, innermost first (for a failure
 * message: what makes the page scroll sideways).
 */
export async function elementsPastTheEdge(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const edge = window.innerWidth;
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      const r = el.getBoundingClientRect();
      if (r.right <= edge + 0.5 || r.width === 0) continue;
      // Only the innermost: skip an element whose child is past the edge too.
      if (Array.from(el.children).some((c) => c.getBoundingClientRect().right > edge + 0.5)) continue;
      const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      out.push(`${el.tagName.toLowerCase()}${cls} (right edge ${Math.round(r.right)} px): ${(el.textContent ?? '').trim().slice(0, 40)}`);
      if (out.length >= 5) break;
    }
    return out;
  });
}

/** How far the page scrolls sideways past the viewport, in CSS pixels (0: it fits). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.scrollingElement!.scrollWidth - window.innerWidth);
}

/**
 * Presses Tab (or Shift+Tab) until `target` has the focus, as a person moving through the
 * page would; fails after `max` presses. The locator only reads where the focus is.
 */
export async function tabTo(page: Page, target: Locator, { backwards = false, max = 80 } = {}) {
  const key = backwards ? 'Shift+Tab' : 'Tab';
  await expect(target).toBeVisible();
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press(key);
  }
  await expect(target, `reached by ${key} within ${max} presses`).toBeFocused({ timeout: 1 });
}
