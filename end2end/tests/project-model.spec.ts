import { gotoHydrated, signUp, uniqueEmail, expect, test } from './helpers';

test('a project uses the model picked for it', async ({ page }) => {
  await signUp(page, uniqueEmail('model'));
  const created = await page.request.post('/api/create_project', {
    form: { name: 'Model pick', template: 'static' },
    headers: { origin: new URL(page.url()).origin },
  });
  expect(created.ok()).toBeTruthy();

  await gotoHydrated(page, '/projects');
  const row = page.getByRole('listitem').filter({ hasText: 'Model pick' });
  await expect(row).toContainText('default model');
  await row.locator('summary', { hasText: 'Model' }).click();
  const picker = row.getByLabel('Model', { exact: true });
  await expect(picker.locator('option').first()).toHaveText('Default (openai:journey)');
  await picker.selectOption('openai:journey-mini');
  await row.getByRole('button', { name: 'Use model' }).click();
  await expect(row).toContainText('openai:journey-mini · updated');

  await page.reload();
  const again = page.getByRole('listitem').filter({ hasText: 'Model pick' });
  await expect(again).toContainText('openai:journey-mini');
});
