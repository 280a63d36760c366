import { readFileSync } from 'node:fs';
import { type Page } from '@playwright/test';
import { CREDITS, gotoHydrated, screenshot, send, signUp, startProject, uniqueEmail, expect, test } from './helpers';

// The whole loop against the scripted model server (its `journey` script
// picks what to play from the message) and the real sandbox daemon.

const preview = (page: Page) => page.frameLocator('iframe[title="Preview"]');

// The journey's first turn runs an 8-second command, so its steps can be
// watched live even when the project page is slow to hydrate (two browsers
// and the sandboxes share two cores); its summary comes after that.
const FIRST_TURN = { timeout: 30_000 };

// A hydration mismatch or a panic in the app fails the test, even when the
// page still looks right.
const crashes = new Map<Page, string[]>();
test.beforeEach(async ({ page }) => {
  const seen: string[] = [];
  crashes.set(page, seen);
  page.on('pageerror', (error) => seen.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /hydration|panicked/i.test(message.text())) seen.push(message.text());
  });
});
test.afterEach(async ({ page }) => {
  expect(crashes.get(page) ?? []).toEqual([]);
});

test('a prompt becomes a running app; a follow-up changes it; versions reopen and restore', async ({ page }, info) => {
  test.setTimeout(120_000);
  await signUp(page, uniqueEmail('build'));
  await gotoHydrated(page, '/');
  // The picker offers every template, and the static web app is the default.
  const picker = page.getByRole('radiogroup', { name: 'Template' });
  await expect(picker.getByRole('radio')).toHaveCount(9);
  await expect(picker.getByRole('radio', { name: 'ML model' })).toHaveAccessibleDescription(/scikit-learn/);
  await expect(picker.getByRole('radio', { name: 'Static web app' })).toBeChecked();
  await expect(picker.getByRole('radio', { name: 'React app' })).toHaveAccessibleDescription(/React, Vite/);
  await screenshot(page, info, 'home');
  await startProject(page, 'A landing page for a bakery');

  // Steps tick by live, then the summary arrives, rendered, without code.
  await expect(page.getByRole('list', { name: 'Steps' })).toBeVisible();
  await expect(page.getByText('Wrote 3 files')).toBeVisible();
  const answer = page.locator('.message-assistant').first();
  await expect(answer).toContainText('a one-page bakery site with an order button', FIRST_TURN);
  await expect(answer.locator('strong')).toHaveText('Crumb & Co.');
  await expect(answer).toContainText('Code is in the Code tab.');
  await expect(page.getByRole('region', { name: 'Chat' })).not.toContainText('this code must never show');
  // Each answer names the model that ran it, and why.
  await expect(answer.locator('.message-model')).toHaveText('openai:journey · build');

  // The preview runs the page on the sandbox's own origin.
  const frame = page.locator('iframe[title="Preview"]');
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily');
  const sandbox = (await frame.getAttribute('sandbox')) ?? '';
  const src = new URL((await frame.getAttribute('src')) ?? '');
  expect(src.origin).not.toBe(new URL(page.url()).origin);
  expect(sandbox).toContain('allow-scripts');
  expect(sandbox).not.toContain('allow-same-origin');
  await screenshot(page, info, 'project-preview');

  // The Code tab lists the files, highlighted, with line numbers.
  await page.getByRole('tab', { name: 'Code' }).click();
  await expect(page.getByRole('tree', { name: 'Files' }).getByRole('treeitem', { name: 'index.html' })).toBeVisible();
  const code = page.getByRole('region', { name: 'index.html' });
  await expect(code).toContainText('Fresh Bakes Daily');
  await expect(code.locator('[class*="tok-"]').first()).toBeVisible();
  await page.getByRole('treeitem', { name: 'style.css' }).click();
  await expect(page.getByRole('region', { name: 'style.css' })).toContainText('font-family');
  await expect(page.getByRole('tab', { name: 'index.html' })).toBeVisible();
  await screenshot(page, info, 'project-code');

  // The zip holds the version's files.
  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download zip' }).click();
  const zip = readFileSync(await (await downloading).path());
  expect(zip.subarray(0, 4).toString('binary')).toBe('PK\x03\x04');
  for (const name of ['index.html', 'style.css', 'app.js']) {
    expect(zip.includes(Buffer.from(name))).toBeTruthy();
  }

  // A follow-up changes the heading.
  await send(page, 'Make a bigger heading');
  await expect(page.getByText('Gave the page a bigger, bolder heading.')).toBeVisible();
  // A short follow-up went to the quick-edit model (OLLIO_EDIT_MODEL).
  const followUp = page.locator('.message-assistant').filter({ hasText: 'Gave the page a bigger' });
  await expect(followUp.locator('.message-model')).toHaveText('openai:journey-mini · quick edit');
  await page.getByRole('tab', { name: 'Preview' }).click();
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Bread Worth Waking Up For');

  // Version 1 shows the old heading again; restoring makes it version 3.
  const versions = page.getByRole('listbox', { name: 'Versions' });
  await expect(page.getByLabel('Versions')).toHaveAttribute('role', 'listbox');
  await versions.getByRole('option', { name: /Version 1/ }).click();
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily');
  await page.getByRole('tab', { name: 'Code' }).click();
  await expect(page.getByRole('region', { name: 'index.html' })).toContainText('Fresh Bakes Daily');
  await page.getByRole('button', { name: 'Restore this version' }).click();
  await expect(versions.getByRole('option')).toHaveCount(3);
  await expect(versions.getByRole('option', { name: /Version 3/ })).toHaveAttribute('aria-selected', 'true');
  await expect(versions.getByRole('option', { name: /Version 3/ })).toContainText('Restored version 1');

  // Changes: version 3 against version 2 brings the old heading back.
  await page.getByRole('button', { name: 'Changes' }).click();
  const diff = page.getByRole('region', { name: 'Changes to index.html' });
  await expect(diff.locator('.diff-add')).toContainText('Fresh Bakes Daily');
  await expect(diff.locator('.diff-del')).toContainText('Bread Worth Waking Up For');

  await page.getByRole('tab', { name: 'Preview' }).click();
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily');

  // Arrow keys walk the versions.
  await versions.focus();
  await page.keyboard.press('ArrowDown');
  await expect(versions.getByRole('option', { name: /Version 2/ })).toHaveAttribute('aria-selected', 'true');

  // Dark mode.
  await page.getByRole('button', { name: 'Dark mode' }).click();
  await page.getByRole('tab', { name: 'Code' }).click();
  await screenshot(page, info, 'project-dark');
});

test("a visitor's prompt comes back in the home page's box after sign-up", async ({ page }) => {
  await gotoHydrated(page, '/');
  await page.getByLabel('What do you want to build?').fill('A tiny recipe box');
  await page.getByRole('button', { name: 'Build' }).click();
  await expect(page).toHaveURL(/\/signup\?next=/);
  await expect(page.getByRole('button', { name: 'Dark mode' })).toBeEnabled();
  await page.getByLabel('Email').fill(uniqueEmail('visitor'));
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByLabel('What do you want to build?')).toHaveValue('A tiny recipe box');
  await expect(page.getByRole('button', { name: 'Build' })).toBeVisible();
});

test('a reload in the middle of a turn keeps its steps and carries on live', async ({ page }) => {
  test.setTimeout(60_000);
  await signUp(page, uniqueEmail('reload'));
  await startProject(page, 'A calm page, take your time');
  // The sandbox is made first: slow on a busy machine.
  await expect(page.getByText('Running sleep 12 && echo done')).toBeVisible({ timeout: 20_000 });
  await page.reload();
  const steps = page.getByRole('list', { name: 'Steps' });
  await expect(steps).toContainText('Wrote index.html');
  await expect(steps).toContainText('Running sleep 12 && echo done');
  await expect(page.getByText('Finished, slowly.')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByLabel('Message')).toBeEnabled();
});

test('without the event stream the page still follows the turn by refetching', async ({ page }) => {
  test.setTimeout(60_000);
  await page.route('**/api/projects/*/events*', (route) => route.abort());
  await signUp(page, uniqueEmail('nostream'));
  await startProject(page, 'A landing page for a bakery');
  await expect(page.getByText('a one-page bakery site with an order button')).toBeVisible(FIRST_TURN);
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily');
});

test('a failed turn shows why, and Retry sends the message again', async ({ page }) => {
  test.setTimeout(60_000);
  await signUp(page, uniqueEmail('retry'));
  // The scripted model refuses this script's first request once (HTTP 400).
  await startProject(page, 'A page that will break on the first try');
  const failure = page.locator('.turn-failed');
  await expect(failure).toContainText('The model failed', { timeout: 20_000 });
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByText('Worked on the second try.')).toBeVisible({ timeout: 20_000 });
});

test('Stop ends a turn', async ({ page }) => {
  test.setTimeout(60_000);
  await signUp(page, uniqueEmail('stop'));
  await startProject(page, 'A page that would never finish');
  await expect(page.getByText('Running sleep 30')).toBeVisible();
  await expect(page.getByLabel('Message')).toBeDisabled();
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.locator('.message-assistant')).toContainText('Stopped.', { timeout: 10_000 });
  await expect(page.getByLabel('Message')).toBeEnabled();
});

test('a preview that went to sleep is restarted from its version', async ({ page }) => {
  test.setTimeout(60_000);
  await signUp(page, uniqueEmail('sleep'));
  await startProject(page, 'A landing page for a bakery');
  await expect(page.getByText('a one-page bakery site with an order button')).toBeVisible(FIRST_TURN);
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily');

  // End the sandbox behind the app's back, as its time limit would.
  const src = new URL((await page.locator('iframe[title="Preview"]').getAttribute('src')) ?? '');
  const id = src.hostname.split('.')[0].replace(/^\d+-/, '');
  const killed = await page.request.delete(`http://${process.env.OLLIO_SANDBOXD_ADDR}/sandboxes/${id}`, {
    headers: { 'X-API-Key': process.env.OLLIO_SANDBOXD_API_KEY ?? '' },
  });
  expect(killed.status()).toBe(204);

  // After a reload the WASM loads again before the page can look; on a busy
  // 2-core runner that alone can take seconds.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'This preview went to sleep' })).toBeVisible({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Restart preview' }).click();
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily');
});

test('out of credits, the message box says so', async ({ page }) => {
  const credits = Number(CREDITS);
  test.skip(credits > 6, 'needs a server started with few credits (scripts/test.sh sets 4)');
  test.setTimeout(90_000);
  await signUp(page, uniqueEmail('credits'));
  await startProject(page, 'A landing page for a bakery');
  for (let turn = 2; turn <= credits; turn += 1) {
    await expect(page.getByLabel('Message')).toBeEnabled(FIRST_TURN);
    await send(page, 'Make a bigger heading');
    await expect(page.locator('.message-assistant')).toHaveCount(turn);
  }
  await expect(page.getByText(`You have used all ${credits} credits for this month.`)).toBeVisible({ timeout: 20_000 });
  await expect(page.getByLabel('Message')).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Send' })).toBeDisabled();
});

test('another user opening the project gets not found', async ({ page, browser }) => {
  await signUp(page, uniqueEmail('owner'));
  await startProject(page, 'A landing page for a bakery');
  const url = page.url();
  const other = await browser.newContext({ extraHTTPHeaders: { 'x-forwarded-for': '10.99.1.1' } });
  const stranger = await other.newPage();
  await signUp(stranger, uniqueEmail('stranger'));
  const response = await stranger.goto(url);
  expect(response?.status()).toBe(404);
  await expect(stranger.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await expect(stranger.getByText('Fresh Bakes Daily')).toHaveCount(0);
  await other.close();
});

test('on a 375 px phone the chat and the preview take turns', async ({ page }, info) => {
  test.setTimeout(60_000);
  await page.setViewportSize({ width: 375, height: 812 });
  await signUp(page, uniqueEmail('phone'));
  await startProject(page, 'A landing page for a bakery');
  await expect(page.getByText('a one-page bakery site with an order button')).toBeVisible(FIRST_TURN);
  await send(page, 'Make a bigger heading');
  await expect(page.getByText('Gave the page a bigger, bolder heading.')).toBeVisible();
  await page.getByRole('button', { name: 'Code & preview' }).click();
  await page.getByRole('tab', { name: 'Preview' }).click();
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Bread Worth Waking Up For');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(375);
  await screenshot(page, info, 'project-preview-375');
});
