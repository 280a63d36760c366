import { gotoHydrated, screenshot, signUp, uniqueEmail, expect, test } from './helpers';

// These run against the bare server scripts/test.sh starts beside the main
// one: no model of its own, and no allowance for private provider URLs, as
// a fresh install is.
const BARE = process.env.PLAYWRIGHT_BARE_URL;
const OWN_URL = process.env.OPENAI_BASE_URL ?? '';

test.skip(!BARE, 'the bare server is not running');
test.use({ baseURL: BARE });

test('a new user without any model sees the setup card', async ({ page }, info) => {
  await signUp(page, uniqueEmail('no-model'));
  await gotoHydrated(page, '/');
  const card = page.getByRole('region', { name: 'Connect a model' });
  await expect(card).toBeVisible();
  await expect(page.getByRole('button', { name: 'Build', exact: true })).toBeDisabled();
  await screenshot(page, info, 'connect-a-model');
  await card.getByRole('link', { name: 'Open Settings' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('region', { name: 'Model providers' })).toBeVisible();
});

test('without the operator\'s allowance a private provider URL is refused with a clear message', async ({ page }) => {
  await signUp(page, uniqueEmail('ssrf'));
  await gotoHydrated(page, '/settings');
  const own = page.getByRole('group', { name: 'OpenAI-compatible', exact: true });
  await own.getByLabel('Base URL').fill(OWN_URL);
  await own.getByLabel('OpenAI-compatible API key').fill('sk-own-refused');
  await own.getByRole('button', { name: 'Save key' }).click();
  await expect(own.getByText(/Saved …used on/)).toBeVisible();
  await own.getByRole('button', { name: 'Test connection' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('private or loopback address (127.0.0.1)');
  await expect(alert).toContainText('OLLIO_ALLOW_PRIVATE_MODEL_URLS=true');
  await expect(own.getByText(/Connected on/)).toHaveCount(0);
  // Still nothing to build with.
  await gotoHydrated(page, '/');
  await expect(page.getByRole('region', { name: 'Connect a model' })).toBeVisible();
});
