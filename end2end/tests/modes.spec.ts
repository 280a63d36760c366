import { type Page } from '@playwright/test';
import { modelMessages, screenshot, send, signUp, startProject, uniqueEmail, expect, test } from './helpers';

// The Mode control beside the message box: Build (the default) changes the
// app; Plan writes a plan that "Build this plan" builds; Ask answers. Plan
// and Ask make no version. Every answer names its model and why it ran.

const preview = (page: Page) => page.frameLocator('iframe[title="Preview"]');

test('Plan shows a plan card that Build this plan builds; Ask answers without a version; each answer names its model and role', async ({ page }, info) => {
  test.setTimeout(240_000);
  await signUp(page, uniqueEmail('modes'));
  await startProject(page, 'A bakery landing page');
  const answers = page.locator('.message-assistant');
  await expect(answers.first().locator('.message-model')).toHaveText('openai:journey · build', { timeout: 120_000 });
  const versions = page.getByRole('listbox', { name: 'Versions' });
  await expect(versions.getByRole('option')).toHaveCount(1);

  // Plan: a plan card, and no version.
  const mode = page.getByRole('combobox', { name: 'Mode' });
  await expect(mode).toHaveValue('build');
  await mode.selectOption('Plan');
  await expect(page.getByLabel('Message')).toHaveAttribute('placeholder', /nothing is changed/);
  await send(page, 'Plan a guestbook for our visitors');
  const card = page.getByRole('region', { name: 'Plan' });
  await expect(card).toBeVisible({ timeout: 60_000 });
  await expect(card.getByRole('heading', { name: 'Goal' })).toBeVisible();
  await expect(card.getByRole('heading', { name: 'Steps' })).toBeVisible();
  await expect(card).toContainText('guestbook.js');
  await expect(answers.nth(1).locator('.message-model')).toHaveText('openai:journey · plan');
  // What the turn cost: 1,200 tokens read and 140 written.
  await expect(answers.nth(1).locator('.message-tokens')).toHaveText('1.3k tokens');
  await expect(page.locator('.message-user').nth(1).locator('.message-mode')).toHaveText('Plan');
  await expect(versions.getByRole('option')).toHaveCount(1);
  await expect(preview(page).getByRole('heading', { name: 'Fresh Bakes Daily' })).toBeVisible({ timeout: 30_000 });
  await screenshot(page, info, 'plan-card');
  // In the dark, and on a phone.
  const theme = page.getByRole('button', { name: 'Dark mode' });
  await theme.click();
  await expect(theme).toHaveAttribute('aria-pressed', 'true');
  await screenshot(page, info, 'plan-card-dark');
  await theme.click();
  await expect(theme).toHaveAttribute('aria-pressed', 'false');
  const wide = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 800 });
  await expect(card.getByRole('button', { name: 'Build this plan' })).toBeVisible();
  await screenshot(page, info, 'plan-card-375');
  if (wide) await page.setViewportSize(wide);

  // Build this plan: a build turn that is given the plan.
  await card.getByRole('button', { name: 'Build this plan' }).click();
  await expect(page.getByText('Built the plan: a guestbook')).toBeVisible({ timeout: 120_000 });
  await expect(answers.nth(2).locator('.message-model')).toHaveText('openai:journey · build');
  await expect(versions.getByRole('option')).toHaveCount(2);
  await expect(versions.getByRole('option').first()).toContainText('Guestbook Added');
  const built = (await modelMessages()).find((text) => text.includes('Build this plan\n\nThe plan to build, written earlier in this chat:'));
  expect(built).toBeTruthy();
  expect(built).toContain('## Goal\nAdd a guestbook');
  await expect(preview(page).getByRole('heading', { name: 'Sign the guestbook' })).toBeVisible({ timeout: 30_000 });

  // Ask: an answer, and still two versions.
  await mode.selectOption('Ask');
  await send(page, 'What does app.js do?');
  await expect(page.getByText("is the page's only script")).toBeVisible({ timeout: 60_000 });
  await expect(answers.nth(3).locator('.message-model')).toHaveText('openai:journey · ask');
  await expect(page.locator('.message-user').nth(3).locator('.message-mode')).toHaveText('Ask');
  await expect(versions.getByRole('option')).toHaveCount(2);
  await expect(answers.nth(3).locator('.message-tokens')).toHaveText('860 tokens');
  // The mode stays as chosen for the next message.
  await expect(mode).toHaveValue('ask');

  // The project's tokens, all its turns', on /projects.
  await page.goto('/projects');
  await expect(page.getByRole('list', { name: 'Projects' }).getByRole('listitem').first()).toContainText('2.2k tokens');
});
