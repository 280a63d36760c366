import { expect, type Page, test } from '@playwright/test';

let counter = 0;

/** An email no other test uses. */
export function uniqueEmail(tag: string): string {
  counter += 1;
  return `${tag}-${Date.now()}-${process.pid}-${counter}@example.com`;
}

/** A client address of its own, so sign-in throttling never spills between tests. */
export function useOwnAddress() {
  const ip = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  test.use({ extraHTTPHeaders: { 'x-forwarded-for': ip } });
}

/** Opens `path` and waits until the WASM app has taken over the page (the
 * theme toggle is enabled only then), so clicks go through the app. */
export async function gotoHydrated(page: Page, path: string) {
  await page.goto(path);
  await expect(page.getByRole('button', { name: 'Dark mode' })).toBeEnabled();
}

export const PASSWORD = 'correct horse battery staple';

export async function signUp(page: Page, email: string, password = PASSWORD) {
  await gotoHydrated(page, '/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page).toHaveURL(/\/projects$/);
}

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();
}
