import { expect, test } from '@playwright/test';

test.describe('on systems that prefer light', () => {
  test.use({ colorScheme: 'light' });

  test('the theme toggle switches the theme and the choice survives a reload', async ({ page }) => {
    await page.goto('/');
    const html = page.locator('html');
    const toggle = page.getByRole('button', { name: 'Dark mode' });
    // Enabled means hydrated: the WASM app has taken over the page.
    await expect(toggle).toBeEnabled();
    await expect(toggle).toHaveAttribute('aria-pressed', 'false');
    const lightBackground = await page.locator('body').evaluate((b) => getComputedStyle(b).backgroundColor);

    await toggle.click();
    await expect(html).toHaveAttribute('data-theme', 'dark');
    await expect(toggle).toHaveAttribute('aria-pressed', 'true');
    // The background fades over a short transition, so wait for it to change.
    await expect(page.locator('body')).not.toHaveCSS('background-color', lightBackground);

    await page.reload();
    // The server renders the stored choice, before any script runs.
    await expect(html).toHaveAttribute('data-theme', 'dark');
    await expect(page.getByRole('button', { name: 'Dark mode' })).toHaveAttribute('aria-pressed', 'true');

    await page.getByRole('button', { name: 'Dark mode' }).click();
    await expect(html).toHaveAttribute('data-theme', 'light');
    await page.reload();
    await expect(html).toHaveAttribute('data-theme', 'light');
  });
});

test.describe('on systems that prefer dark', () => {
  test.use({ colorScheme: 'dark' });

  test('the page follows the system until the visitor chooses', async ({ page }) => {
    await page.goto('/');
    const toggle = page.getByRole('button', { name: 'Dark mode' });
    await expect(toggle).toBeEnabled();
    await expect(toggle).toHaveAttribute('aria-pressed', 'true');
    await toggle.click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  });
});

test('the theme toggle works from the keyboard', async ({ page }) => {
  await page.goto('/');
  const toggle = page.getByRole('button', { name: 'Dark mode' });
  await expect(toggle).toBeEnabled();
  await toggle.focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('html')).toHaveAttribute('data-theme', /^(light|dark)$/);
});
