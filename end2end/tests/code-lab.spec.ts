import type { Page } from '@playwright/test';
import { screenshot, signUp, startProject, uniqueEmail, expect, test } from './helpers';

const preview = (page: Page) => page.frameLocator('iframe[title="Preview"]');

test('a file edited in the editor and saved with Ctrl+S shows in the preview and is a version', async ({ page }, info) => {
  test.setTimeout(180_000);
  await signUp(page, uniqueEmail('editor'));
  await startProject(page, 'A bakery landing page');
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily', { timeout: 120_000 });

  await page.getByRole('tab', { name: 'Code' }).click();
  const code = page.getByRole('region', { name: 'index.html' });
  const heading = code.locator('.cm-line', { hasText: 'Fresh Bakes Daily' });
  await expect(heading).toBeVisible({ timeout: 30_000 });
  await expect(page.getByLabel('Status')).toContainText('html');
  await expect(page.getByLabel('Status')).toContainText('Saved');
  // The word "Fresh" (after the line's indentation and `<h1>`) becomes "Warm".
  await heading.click();
  await page.keyboard.press('Home');
  for (let i = 0; i < 4; i += 1) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Shift+Control+ArrowRight');
  await page.keyboard.type('Warm');
  await expect(code.locator('.cm-content')).toContainText('Warm Bakes Daily');
  await expect(page.getByRole('tab', { name: /index\.html/ }).getByLabel('unsaved changes')).toBeVisible();
  await expect(page.getByLabel('Status')).toContainText('Unsaved changes');
  await screenshot(page, info, 'code-editor');
  await page.keyboard.press('Control+s');

  const versions = page.getByRole('listbox', { name: 'Versions' });
  await expect(versions.getByRole('option', { name: /Version 2/ })).toContainText('Edited index.html', { timeout: 30_000 });
  await expect(page.getByRole('tab', { name: /index\.html/ }).getByLabel('unsaved changes')).toHaveCount(0);
  await page.getByRole('tab', { name: 'Preview' }).click();
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Warm Bakes Daily', { timeout: 30_000 });

  // An older version opens read-only.
  await versions.getByRole('option', { name: /Version 1/ }).click();
  await page.getByRole('tab', { name: 'Code' }).click();
  await expect(page.getByText('An older version, read only.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Save' })).toHaveCount(0);
});

test('Ctrl+P goes to a file, and Search finds a string in two files and opens its line', async ({ page }, info) => {
  test.setTimeout(180_000);
  await signUp(page, uniqueEmail('palette'));
  await startProject(page, 'A bakery landing page');
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily', { timeout: 120_000 });
  await page.getByRole('tab', { name: 'Code' }).click();
  await expect(page.getByRole('region', { name: 'index.html' }).locator('.cm-content')).toBeVisible({ timeout: 30_000 });

  // Go to file: part of a name, then Enter.
  await page.keyboard.press('Control+p');
  const palette = page.getByRole('dialog', { name: 'Go to file' });
  await expect(palette).toBeVisible();
  await palette.getByRole('combobox', { name: 'Go to file' }).fill('sty');
  await expect(palette.getByRole('option').first()).toHaveText('style.css');
  await page.keyboard.press('Enter');
  await expect(palette).toHaveCount(0);
  await expect(page.getByRole('region', { name: 'style.css' })).toContainText('Warm and simple', { timeout: 30_000 });

  // Search in files: "order" as a whole word is in index.html and app.js.
  await page.keyboard.press('Control+Shift+F');
  const search = page.getByRole('search', { name: 'Search in files' });
  await search.getByRole('searchbox', { name: 'Search in files' }).fill('order');
  await search.getByLabel('Whole word').check();
  await page.keyboard.press('Enter');
  await expect(search.getByText('2 lines in 2 files')).toBeVisible();
  await expect(search.getByRole('region', { name: 'index.html' })).toContainText('13');
  const inScript = search.getByRole('region', { name: 'app.js' }).getByRole('button');
  await expect(inScript).toContainText("getElementById('order')");
  await screenshot(page, info, 'code-search');
  await inScript.click();
  await expect(page.getByRole('region', { name: 'app.js' })).toContainText('addEventListener', { timeout: 30_000 });
  await expect(page.getByLabel('Status')).toContainText('Ln 2, Col 1');
});
