import { gotoHydrated, signUp, uniqueEmail, expect, test } from './helpers';

test('a model key is saved, shown only by its end, and removed', async ({ page }) => {
  await signUp(page, uniqueEmail('keys'));
  await gotoHydrated(page, '/settings');
  const keys = page.getByRole('region', { name: 'Model keys' });
  await expect(keys.getByText("Not set: the server's key is used.")).toHaveCount(2);

  await keys.getByLabel('Anthropic API key').fill('sk-ant-secret-9876wxyz');
  await keys.getByRole('button', { name: 'Save key' }).nth(1).click();
  await expect(keys.getByText(/Saved …wxyz on/)).toBeVisible();
  // The key itself never comes back to the page.
  await expect(page.locator('body')).not.toContainText('sk-ant-secret');
  await page.reload();
  await expect(keys.getByText(/Saved …wxyz on/)).toBeVisible();
  await expect(keys.getByLabel('Anthropic API key')).toHaveValue('');

  await keys.getByLabel('OpenAI-compatible API key').fill('two words');
  await keys.getByRole('button', { name: 'Save key' }).first().click();
  await expect(page.getByRole('alert')).toContainText('no spaces or line breaks');

  await gotoHydrated(page, '/settings');
  await keys.getByRole('button', { name: 'Remove Anthropic key' }).click();
  await expect(keys.getByText("Not set: the server's key is used.")).toHaveCount(2);
});
