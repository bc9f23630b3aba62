import { expect, type Page } from '@playwright/test';

/** Signs in through the real form, the way a person does. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string, path = '/portal') {
  await page.goto(`${baseUrl}${path}`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function expectPortal(page: Page, username: string) {
  await expect(page.getByRole('heading', { name: 'User Portal' })).toBeVisible();
  await expect(page.getByTestId('signed-in-user')).toHaveText(username);
}

/** The page's own alert (Next.js adds a route announcer with role=alert outside <main>). */
export function pageAlert(page: Page) {
  return page.getByRole('main').getByRole('alert');
}
