import { expect, test } from './helpers';

test('what is typed before the page comes alive stays in the prompt box', async ({ page }) => {
  // The browser's WASM is held back until the prompt is typed, as on a slow
  // connection: hydrating the box must not wipe it.
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  await page.route('**/pkg/ollio.wasm', async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/');
  const prompt = page.getByLabel('What do you want to build?');
  await prompt.fill('A dark login form');
  release();
  // The theme toggle is enabled once the page is hydrated.
  await expect(page.getByRole('button', { name: 'Dark mode' })).toBeEnabled();
  await expect(prompt).toHaveValue('A dark login form');
  await page.getByRole('button', { name: 'Build' }).click();
  await expect(page).toHaveURL(/\/signup\?next=/);
  await expect(page.getByRole('status')).toContainText('A dark login form');
});
