import { expect, test } from '@playwright/test';

// Runs with JavaScript on and off: the server-rendered page must stand alone.

test('the landing page shows the product and its prompt box', async ({ page }) => {
  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle('Ollio');
  await expect(page.getByRole('banner').getByRole('link', { name: 'Ollio home' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 1, name: 'Describe an app. Watch it run.' })).toBeVisible();
  await expect(page.getByLabel('What do you want to build?')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Build' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'How it works' })).toBeVisible();
  await expect(page.getByRole('contentinfo')).toContainText('Ollio');
  // The stylesheet applied: the page is not unstyled HTML.
  const font = await page.locator('body').evaluate((body) => getComputedStyle(body).fontFamily);
  expect(font).not.toBe('"Times New Roman"');
});

test('the prompt box explains an empty prompt and sends a real one through sign-up', async ({ page }) => {
  await page.goto('/');
  const prompt = page.getByLabel('What do you want to build?');
  await page.getByRole('button', { name: 'Build' }).click();
  await expect(page.getByRole('alert')).toHaveText('Describe what you want to build first.');

  await prompt.fill('A dark login form');
  await page.getByRole('button', { name: 'Build' }).click();
  await expect(page).toHaveURL(/\/signup\?next=/);
  await expect(page.getByRole('status')).toContainText('A dark login form');
  await expect(page.getByRole('heading', { name: 'Create your account' })).toBeVisible();
});

test('an example fills the prompt box', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('link', { name: 'A markdown notes app' }).click();
  await expect(page.getByLabel('What do you want to build?')).toHaveValue('A markdown notes app');
});

test('the theme toggle needs the hydrated app', async ({ page, javaScriptEnabled }) => {
  await page.goto('/');
  const toggle = page.getByRole('button', { name: 'Dark mode' });
  if (javaScriptEnabled) {
    await expect(toggle).toBeEnabled();
  } else {
    await expect(toggle).toBeDisabled();
  }
});
