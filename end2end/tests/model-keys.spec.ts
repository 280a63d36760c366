import { gotoHydrated, signUp, uniqueEmail, expect, test } from './helpers';

test('a model key is saved, shown only by its end, and removed', async ({ page }) => {
  await signUp(page, uniqueEmail('keys'));
  await gotoHydrated(page, '/settings');
  const keys = page.getByRole('region', { name: 'Model providers' });
  await expect(keys.getByText("Not set: the server's key is used.")).toHaveCount(2);
  // Every provider a user may add has its row.
  for (const name of ['OpenAI', 'Anthropic', 'OpenRouter', 'Groq', 'DeepSeek', 'Together', 'Mistral', 'Gemini', 'OpenAI-compatible']) {
    await expect(keys.getByRole('group', { name, exact: true })).toBeVisible();
  }

  const anthropic = keys.getByRole('group', { name: 'Anthropic', exact: true });
  await anthropic.getByLabel('Anthropic API key').fill('sk-ant-secret-9876wxyz');
  await anthropic.getByRole('button', { name: 'Save key' }).click();
  await expect(anthropic.getByText(/Saved …wxyz on/)).toBeVisible();
  // The key itself never comes back to the page.
  await expect(page.locator('body')).not.toContainText('sk-ant-secret');
  await page.reload();
  await expect(anthropic.getByText(/Saved …wxyz on/)).toBeVisible();
  await expect(anthropic.getByLabel('Anthropic API key')).toHaveValue('');

  const openai = keys.getByRole('group', { name: 'OpenAI', exact: true });
  await openai.getByLabel('OpenAI API key').fill('two words');
  await openai.getByRole('button', { name: 'Save key' }).click();
  await expect(page.getByRole('alert')).toContainText('no spaces or line breaks');

  await gotoHydrated(page, '/settings');
  await anthropic.getByRole('button', { name: 'Remove Anthropic key' }).click();
  await expect(keys.getByText("Not set: the server's key is used.")).toHaveCount(2);
});
