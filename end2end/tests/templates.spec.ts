import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Page } from '@playwright/test';
import { recordedSteps, recordSteps, screenshot, send, signUp, startProject, uniqueEmail, expect, test } from './helpers';

// Apps from the templates, built by the scripted model in real sandboxes of
// the bundled daemon, from the prebuilt template images (scripts/test.sh
// builds them first).

const preview = (page: Page) => page.frameLocator('iframe[title="Preview"]');

test('react: the heading is rendered by React, and a follow-up shows over HMR without a reload', async ({ page }, info) => {
  test.setTimeout(180_000);
  await signUp(page, uniqueEmail('react'));
  await startProject(page, 'A React kanban board', 'React app');
  await expect(page.getByText('Built a kanban board in React')).toBeVisible({ timeout: 90_000 });

  // React renders the heading: Vite's page itself does not hold it.
  const heading = preview(page).getByRole('heading', { level: 1 });
  await expect(heading).toHaveText('Kanban Board', { timeout: 30_000 });
  const src = (await page.locator('iframe[title="Preview"]').getAttribute('src')) ?? '';
  const frame = page.frames().find((f) => f.url().startsWith(new URL(src).origin));
  expect(frame).toBeTruthy();
  // (Fetched from inside the frame: only the browser resolves *.localhost.)
  const served = await frame!.evaluate(async () => (await fetch(location.href)).text());
  expect(served).toContain('<div id="root"></div>');
  expect(served).not.toContain('Kanban Board');

  // A mark on the preview's window survives the follow-up: no reload.
  await frame!.evaluate(() => ((window as unknown as { ollioMark: number }).ollioMark = 42));
  await send(page, 'Rename the board');
  await expect(page.getByText('Renamed the board to Team Kanban Board.')).toBeVisible({ timeout: 90_000 });
  await expect(heading).toHaveText('Team Kanban Board');
  const live = page.frames().find((f) => f.url().startsWith(new URL(src).origin));
  expect(await live!.evaluate(() => (window as unknown as { ollioMark?: number }).ollioMark)).toBe(42);

  // The Code tab shows the .tsx files highlighted, and no node_modules.
  await page.getByRole('tab', { name: 'Code' }).click();
  const files = page.getByRole('tree', { name: 'Files' });
  await expect(files.getByRole('treeitem', { name: 'App.tsx' })).toBeVisible();
  await expect(files.getByRole('treeitem', { name: 'package.json' })).toBeVisible();
  await expect(files).not.toContainText('node_modules');
  await files.getByRole('treeitem', { name: 'App.tsx' }).click();
  const code = page.getByRole('region', { name: /App\.tsx$/ });
  // Highlighting TSX the first time loads its grammar: slow in a debug build
  // on a busy machine.
  await expect(code).toContainText('Team Kanban Board', { timeout: 30_000 });
  await expect(code.locator('[class*="tok-"]').first()).toBeVisible();

  // An image the app made is kept with the version and shows as itself;
  // what the version left out is listed with why.
  await files.getByRole('treeitem', { name: 'dot.png' }).click();
  await expect(page.getByRole('img', { name: 'public/dot.png' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'public/dot.png' })).toContainText('An image of 70 B');
  await page.getByText(/^Left out of this version \(\d+\)$/).click();
  const leftOut = page.locator('.left-out');
  await expect(leftOut).toContainText('node_modules — dependencies, installed again from the package manifest');
  await expect(leftOut).toContainText('public/huge.bin — too large to keep (8.6 MB)');
  await screenshot(page, info, 'project-left-out');

  // Nor does the zip.
  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download zip' }).click();
  const zip = readFileSync(await (await downloading).path());
  expect(zip.includes(Buffer.from('src/components/Column.tsx'))).toBeTruthy();
  expect(zip.includes(Buffer.from('package-lock.json'))).toBeTruthy();
  expect(zip.includes(Buffer.from('public/dot.png'))).toBeTruthy();
  expect(zip.includes(Buffer.from('node_modules'))).toBeFalsy();
});

test('python-api: the preview shows the docs, served offline, and the endpoint the agent wrote answers', async ({ page }, info) => {
  test.setTimeout(180_000);
  await signUp(page, uniqueEmail('python'));
  await startProject(page, 'An inventory API', 'Python API');
  await expect(page.getByText('Built an inventory API')).toBeVisible({ timeout: 90_000 });

  // The Preview tab opens FastAPI's docs page, whose Swagger UI comes from
  // the sandbox (the sandbox reaches no CDN).
  const frameElement = page.locator('iframe[title="Preview"]');
  await expect(frameElement).toHaveAttribute('src', /\/docs$/);
  await expect(preview(page).locator('.swagger-ui .title')).toContainText('Inventory API', { timeout: 30_000 });
  await expect(preview(page).getByText('/items', { exact: true })).toBeVisible();
  const src = (await frameElement.getAttribute('src')) ?? '';
  const frame = page.frames().find((f) => f.url().startsWith(new URL(src).origin));
  const items = await frame!.evaluate(async () => (await fetch('/items')).json());
  expect(items).toEqual([
    { id: 1, name: 'Widget', stock: 12 },
    { id: 2, name: 'Gadget', stock: 0 },
  ]);

  // "Logs" shows the app's output live: the supervisor's start line, then
  // a request made now appears without reopening the panel.
  await page.getByRole('button', { name: 'Logs', exact: true }).click();
  const log = page.getByRole('log', { name: "The app's log" });
  await expect(log).toContainText('[ollio] Starting `.venv/bin/python -m uvicorn main:app');
  await expect(log).toContainText('Uvicorn running on http://127.0.0.1:8000');
  await frame!.evaluate(async () => (await fetch('/items?from=logs')).status);
  await expect(log).toContainText('GET /items?from=logs', { timeout: 10_000 });
  await screenshot(page, info, 'project-logs');
  await page.getByRole('button', { name: 'Hide logs' }).click();
  await expect(log).toBeHidden();
});

test('streamlit: the app\'s title shows in the preview', async ({ page }) => {
  test.setTimeout(180_000);
  await signUp(page, uniqueEmail('streamlit'));
  await startProject(page, 'A sales dashboard', 'Data app (Streamlit)');
  await expect(page.getByText('Built a sales dashboard')).toBeVisible({ timeout: 90_000 });
  await expect(preview(page).getByRole('heading', { name: 'Sales Dashboard' })).toBeVisible({ timeout: 60_000 });
});

test('fullstack: the front end shows data it fetched from its own API', async ({ page }) => {
  test.setTimeout(180_000);
  await signUp(page, uniqueEmail('fullstack'));
  await startProject(page, 'A shopping list', 'Full-stack app');
  await expect(page.getByText('Built a shopping list')).toBeVisible({ timeout: 90_000 });
  const items = preview(page).getByRole('list', { name: 'Items' });
  await expect(items.getByRole('listitem')).toHaveText(['Buy flour', 'Bake bread'], { timeout: 60_000 });
});

test('ml-model: an attached CSV becomes a trained model with a live API, tried from the Model tab, and Retrain is free', async ({ page }, info) => {
  test.setTimeout(300_000);
  await signUp(page, uniqueEmail('model'));
  const csv = { name: 'iris.csv', mimeType: 'text/csv', buffer: readFileSync(join(__dirname, '..', 'fixtures', 'iris.csv')) };
  // Steps come and go quickly: from now on, every one the chat shows is
  // recorded, however briefly.
  await recordSteps(page);
  await startProject(page, 'An iris classifier from this CSV, with an API', 'ML model', [csv]);
  // The message carries its file as a chip.
  const sent = page.locator('.message-user').getByRole('list', { name: 'Attached files' });
  await expect(sent).toContainText('iris.csv');
  await expect(page.getByText('Trained the iris classifier on your data/iris.csv')).toBeVisible({ timeout: 90_000 });
  // The training run follows the turn: its three steps, live in the chat.
  const steps = page.getByRole('list', { name: 'Steps' });
  await expect(steps).toContainText('Training the model', { timeout: 120_000 });
  await expect(steps.getByRole('row', { name: /accuracy/ })).toBeVisible();
  // It ends with the metrics and the API's URL.
  const trained = page.getByText(/The model is trained: accuracy [\d.]+ · f1_macro [\d.]+/);
  await expect(trained).toBeVisible({ timeout: 180_000 });
  await expect(trained).toContainText(/live at http:\/\/8000-/);
  const credits = page.getByRole('link', { name: /credits left this month$/ });
  const before = await credits.getAttribute('aria-label');

  const recorded = await recordedSteps(page);
  for (const label of ['Installing packages', 'Training the model', 'Deploying the API']) {
    expect(recorded.labels).toContain(label);
  }
  // The progress bar moved as train.py reported its epochs.
  expect(new Set(recorded.progress).size, recorded.progress.join(' ')).toBeGreaterThan(2);

  // The Preview tab switched to the API's docs.
  await expect(page.locator('iframe[title="Preview"]')).toHaveAttribute('src', /\/docs$/);

  // The Model tab: the run, its metrics, the API and "Try it".
  await page.getByRole('tab', { name: 'Model' }).click();
  const panel = page.getByRole('tabpanel', { name: 'Model' });
  await expect(panel.getByRole('status').filter({ hasText: 'Deployed' })).toBeVisible({ timeout: 30_000 });
  await expect(panel.getByRole('row', { name: /accuracy/ })).toBeVisible();
  await expect(panel.getByRole('button', { name: 'Copy' })).toBeVisible();
  await expect(panel.getByRole('link', { name: 'Open' })).toHaveAttribute('href', /^http:\/\/8000-.*\/docs$/);
  const request = panel.getByLabel('Request to POST /predict (JSON)');
  // Prefilled from the API's own /openapi.json.
  await expect(request).toHaveValue(/"sepal_length": 5\.1/, { timeout: 30_000 });
  await panel.getByRole('button', { name: 'Send' }).click();
  const answered = panel.getByRole('status').filter({ hasText: 'The API answered' });
  await expect(answered).toContainText('"label": "setosa"', { timeout: 30_000 });
  const firstAnswer = await answered.locator('pre').textContent();
  await expect(panel.getByRole('img', { name: /^accuracy by version: version 1 / })).toBeVisible();
  await screenshot(page, info, 'project-model');

  // The run as JSON, for its owner.
  const projectId = new URL(page.url()).pathname.split('/').pop();
  const listed = await (await page.request.get(`/api/projects/${projectId}/training-jobs`)).json();
  expect(listed).toHaveLength(1);
  const job = await (await page.request.get(`/api/training-jobs/${listed[0].id}`)).json();
  expect(job.status).toBe('deployed');
  expect(job.deployment_url).toMatch(/^http:\/\/8000-/);
  expect(job.metrics.accuracy).toBeGreaterThan(0.8);

  // A request that is not JSON is refused before it is sent; the API's own
  // refusal is shown as it answered.
  await request.fill('{ not json');
  await panel.getByRole('button', { name: 'Send' }).click();
  await expect(panel.getByRole('alert')).toContainText('The request is not valid JSON');
  await request.fill('{"sepal_length": "long"}');
  await panel.getByRole('button', { name: 'Send' }).click();
  await expect(panel.getByRole('alert')).toContainText('The API answered 422');

  // Retrain: the same version again, with its steps, and no credit spent.
  await page.getByRole('button', { name: 'Retrain' }).click();
  await expect(page.getByRole('list', { name: 'Steps' })).toContainText('Training the model', { timeout: 60_000 });
  await expect(trained).toHaveCount(2, { timeout: 180_000 });
  await expect(credits).toHaveAttribute('aria-label', before ?? '');

  // A follow-up that changes a hyperparameter makes version 2 with its own
  // metrics; the chart has a point for each version.
  await send(page, 'Regularize it more strongly (C=0.01)');
  await expect(page.getByText('Regularized the classifier more strongly')).toBeVisible({ timeout: 90_000 });
  await expect(trained).toHaveCount(3, { timeout: 180_000 });
  await page.getByRole('tab', { name: 'Model' }).click();
  await expect(panel.getByRole('heading', { name: 'Version 2' })).toBeVisible({ timeout: 30_000 });
  await expect(panel.getByRole('img', { name: /^accuracy by version: version 1 [\d.]+, version 2 [\d.]+$/ })).toBeVisible();
  await expect(request).toHaveValue(/"sepal_length": 5\.1/, { timeout: 30_000 });
  await panel.getByRole('button', { name: 'Send' }).click();
  await expect(answered).toContainText('"label": "setosa"', { timeout: 30_000 });
  const secondAnswer = await answered.locator('pre').textContent();
  expect(secondAnswer).not.toBe(firstAnswer);

  // Version 1, opened again, answers with version 1's own model.
  await page.getByRole('listbox', { name: 'Versions' }).getByRole('option', { name: /Version 1/ }).click();
  await expect(panel.getByRole('heading', { name: 'Version 1' })).toBeVisible();
  await expect(request).toHaveValue(/"sepal_length": 5\.1/, { timeout: 60_000 });
  await panel.getByRole('button', { name: 'Send' }).click();
  await expect(answered.locator('pre')).toHaveText(firstAnswer ?? '', { timeout: 30_000 });
});
