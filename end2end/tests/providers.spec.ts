import { gotoHydrated, modelRequests, screenshot, send, signUp, startProject, uniqueEmail, expect, test } from './helpers';

// The scripted model server stands for a user's own OpenAI-compatible
// server. It listens on loopback, which this server's operator allows
// (OLLIO_ALLOW_PRIVATE_MODEL_URLS=true in scripts/test.sh); bare.spec.ts
// shows the same URL refused where it is not allowed.
const OWN_URL = process.env.OPENAI_BASE_URL ?? '';

test('a user adds an OpenAI-compatible provider of their own, tests it and builds with it', async ({ page }, info) => {
  test.setTimeout(180_000);
  const key = `sk-own-${Date.now()}-4242`;
  await signUp(page, uniqueEmail('own-provider'));
  await gotoHydrated(page, '/settings');
  const own = page.getByRole('group', { name: 'OpenAI-compatible', exact: true });
  await own.getByLabel('Base URL').fill(OWN_URL);
  await own.getByLabel('OpenAI-compatible API key').fill(key);
  await own.getByRole('button', { name: 'Save key' }).click();
  await expect(own.getByText(/Saved …4242 on/)).toBeVisible();
  await expect(own.getByText(OWN_URL)).toBeVisible();
  await own.getByRole('button', { name: 'Test connection' }).click();
  await expect(own.getByRole('status')).toContainText(/Connected on .*: \d+ models \(/);
  await own.getByText('Every model it serves').click();
  await expect(own.locator('.model-names')).toContainText('journey-mini');
  await expect(page.locator('body')).not.toContainText(key);
  await own.scrollIntoViewIfNeeded();
  await screenshot(page, info, 'settings-providers');
  // In the dark, and on a phone.
  const theme = page.getByRole('button', { name: 'Dark mode' });
  await theme.click();
  await expect(theme).toHaveAttribute('aria-pressed', 'true');
  await screenshot(page, info, 'settings-providers-dark');
  await theme.click();
  await expect(theme).toHaveAttribute('aria-pressed', 'false');
  const wide = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 800 });
  await own.getByRole('button', { name: 'Test connection' }).scrollIntoViewIfNeeded();
  await screenshot(page, info, 'settings-providers-375');
  if (wide) await page.setViewportSize(wide);

  // Its models are offered beside the message box; the next turn runs there.
  await startProject(page, 'A bakery landing page');
  const answers = page.locator('.message-assistant');
  await expect(answers.first().locator('.message-model')).toHaveText('openai:journey · build', { timeout: 120_000 });
  const picker = page.getByRole('combobox', { name: 'Runs on' });
  await expect(picker.locator('option', { hasText: 'custom:journey' }).first()).toBeAttached();
  await picker.selectOption('custom:journey');
  await expect(page.getByText('The next message goes to custom:journey.')).toBeVisible();
  await send(page, 'Use these files as they are');
  await expect(answers.nth(1).locator('.message-model')).toHaveText('custom:journey · build', { timeout: 60_000 });
  const sent = (await modelRequests()) as { _key?: string; model?: string }[];
  const mine = sent.filter((request) => request._key === `Bearer ${key}`);
  expect(mine.some((request) => request.model === 'journey')).toBeTruthy();
});
