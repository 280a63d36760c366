import { gotoHydrated, send, signUp, startProject, uniqueEmail, expect, test } from './helpers';

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

test('the model picker beside the message box sends the next message to the model picked', async ({ page }) => {
  test.setTimeout(180_000);
  await signUp(page, uniqueEmail('model-box'));
  await startProject(page, 'A bakery landing page');
  const answers = page.locator('.message-assistant');
  await expect(answers.first().locator('.message-model')).toHaveText('openai:journey · build', { timeout: 120_000 });

  const picker = page.getByRole('combobox', { name: 'Runs on' });
  await expect(picker).toBeEnabled();
  await expect(picker.locator('option').first()).toHaveText('Default (openai:journey)');
  await expect(picker).toHaveValue('');
  await picker.selectOption('openai:journey-mini');
  await expect(page.getByText('The next message goes to openai:journey-mini.')).toBeVisible();
  // The project's own model builds, whatever the message's length.
  await send(page, 'Use these files as they are');
  await expect(answers.nth(1).locator('.message-model')).toHaveText('openai:journey-mini · build', { timeout: 60_000 });

  // It is the project's model, on /projects too.
  await gotoHydrated(page, '/projects');
  await expect(page.getByRole('listitem').filter({ hasText: 'A bakery landing page' })).toContainText('openai:journey-mini');
});
