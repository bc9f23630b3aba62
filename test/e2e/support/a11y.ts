import AxeBuilder from '@axe-core/playwright';
import { expect, type Locator, type Page } from '@playwright/test';

/** WCAG 2.0 and 2.1, levels A and AA, plus axe's best practices (landmarks, headings, regions). */
export const axeTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

export const desktop = { width: 1280, height: 900 };
export const phone = { width: 390, height: 844 };

/**
 * One line per axe violation: rule, what it asks, and the first few elements it found.
 * Legacy mode: the pages have no iframes, and the default mode opens a blank page per run to
 * merge frame results, which costs more than the whole check on a busy machine.
 */
export async function axeViolations(page: Page): Promise<{ id: string; line: string }[]> {
  const results = await new AxeBuilder({ page }).setLegacyMode(true).withTags(axeTags).analyze();
  return results.violations.map((v) => {
    const targets = v.nodes.slice(0, 3).map((n) => n.target.join(' '));
    const more = v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : '';
    return { id: v.id, line: `${v.id} (${v.impact}): ${v.help} at ${targets.join(', ')}${more}` };
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
