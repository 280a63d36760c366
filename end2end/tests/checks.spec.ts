import { type Page } from '@playwright/test';
import { modelRequests, recordedSteps, recordSteps, screenshot, send, signUp, startProject, uniqueEmail, expect, test } from './helpers';

// The agent checks its work before a turn ends and fixes what it finds;
// the preview reports the browser's errors back to the workspace.

const preview = (page: Page) => page.frameLocator('iframe[title="Preview"]');

test('python-api: a syntax error is fixed in the same turn; a change still broken after two rounds ends with errors and offers the last good version', async ({ page }, info) => {
  test.setTimeout(240_000);
  await signUp(page, uniqueEmail('checks'));
  await recordSteps(page);
  await startProject(page, 'Build a notes API', 'Python API');
  await expect(page.getByText('Fixed the syntax error in main.py: GET /notes answers now.')).toBeVisible({ timeout: 120_000 });
  const { labels } = await recordedSteps(page);
  expect(labels).toContain('Checking the app');
  expect(labels).toContain('Fixing 1 error');

  // The request after the check held the traceback, as the log had it.
  const fix = (await modelRequests())
    .flatMap((request) => request.messages ?? [])
    .map((message) => (typeof message.content === 'string' ? message.content : ''))
    .find((text) => text.startsWith('The check after your work found 1 error') && text.includes('def list_notes(:'));
  expect(fix).toBeTruthy();
  expect(fix).toContain('Traceback (most recent call last):');
  expect(fix).toContain('SyntaxError: invalid syntax');

  // The fixed API answers in the preview's docs.
  await expect(preview(page).getByText('/notes')).toBeVisible({ timeout: 30_000 });
  const versions = page.getByRole('listbox', { name: 'Versions' });
  await expect(versions.getByRole('option').first()).toContainText('Checked');

  // A change the model does not manage to fix in two rounds.
  await send(page, 'Add a stubborn endpoint');
  const report = page.locator('.check-report');
  await expect(report).toBeVisible({ timeout: 120_000 });
  await expect(report).toContainText('Finished with errors');
  await expect(report).toContainText('main.py:14 — SyntaxError: invalid syntax');
  await expect(versions.getByRole('option').first()).toContainText('1 error');
  await screenshot(page, info, 'finished-with-errors');

  // It offers the last version whose check passed.
  await report.getByRole('button', { name: 'Restore version 1' }).click();
  await expect(page.getByText('Version 1 restored as version 3')).toBeVisible();
  await expect(versions.getByRole('option').first()).toContainText('Restored version 1');
  await expect(versions.getByRole('option').first()).toContainText('Checked');
});

test('react: an error thrown in the preview shows on the Preview tab, and Fix errors sends it to the agent', async ({ page }, info) => {
  test.setTimeout(240_000);
  await signUp(page, uniqueEmail('browser-errors'));
  await startProject(page, 'A flaky board', 'React app');
  await expect(page.getByText('Built the board page.')).toBeVisible({ timeout: 120_000 });
  await expect(preview(page).getByRole('heading', { name: 'Flaky Board' })).toBeVisible({ timeout: 30_000 });

  // The page's uncaught error is counted on the Preview tab.
  const tab = page.getByRole('tab', { name: /^Preview/ });
  await expect(tab.locator('.tab-badge > [aria-hidden="true"]')).toHaveText('1', { timeout: 30_000 });
  await expect(tab).toHaveAccessibleName(/^Preview\W+1 error$/);

  await page.getByRole('button', { name: /^Logs/ }).click();
  const errors = page.getByRole('region', { name: 'Errors in the browser' });
  await expect(errors).toContainText('1 error in the browser');
  await expect(errors).toContainText('Error: Board failed to load: the cards are missing');
  // (Where in the served module: Vite's transform moves the lines.)
  await expect(errors).toContainText('/src/App.tsx:');
  await screenshot(page, info, 'browser-errors');

  // A message from elsewhere than the preview's frame is not taken.
  // (The workspace listened first: once this page's own listener has the
  // message, the workspace's has had it too.)
  await page.evaluate(
    () =>
      new Promise<void>((done) => {
        window.addEventListener('message', () => done(), { once: true });
        window.postMessage({ ollio: 'preview-error', kind: 'error', message: 'forged', source: '', line: 0, column: 0, stack: '' }, '*');
      }),
  );
  await expect(errors).not.toContainText('forged');

  await errors.getByRole('button', { name: 'Fix errors' }).click();
  // The turn gets the error's text: the user's message holds it.
  await expect(page.locator('.message-user').last()).toContainText('Error: Board failed to load: the cards are missing');
  await expect(page.getByText('The board no longer throws while loading: its cards are listed.')).toBeVisible({ timeout: 120_000 });
  await expect(preview(page).getByText('Invite the team')).toBeVisible({ timeout: 30_000 });
  await expect(tab.locator('.tab-badge')).toHaveCount(0);
});
