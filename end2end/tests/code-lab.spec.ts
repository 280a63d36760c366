import type { Page } from '@playwright/test';
import { screenshot, signUp, startProject, uniqueEmail, expect, test } from './helpers';

const preview = (page: Page) => page.frameLocator('iframe[title="Preview"]');

test('a file edited in the editor and saved with Ctrl+S shows in the preview and is a version', async ({ page }, info) => {
  test.setTimeout(180_000);
  await signUp(page, uniqueEmail('editor'));
  await startProject(page, 'A bakery landing page');
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily', { timeout: 120_000 });

  await page.getByRole('tab', { name: 'Code' }).click();
  const code = page.getByRole('region', { name: 'index.html' });
  const heading = code.locator('.cm-line', { hasText: 'Fresh Bakes Daily' });
  await expect(heading).toBeVisible({ timeout: 30_000 });
  await expect(page.getByLabel('Status')).toContainText('html');
  await expect(page.getByLabel('Status')).toContainText('Saved');
  await expect(page.getByLabel('Status')).toContainText('Sandbox running');
  // The word "Fresh" (after the line's indentation and `<h1>`) becomes "Warm".
  await heading.click();
  await page.keyboard.press('Home');
  for (let i = 0; i < 4; i += 1) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Shift+Control+ArrowRight');
  await page.keyboard.type('Warm');
  await expect(code.locator('.cm-content')).toContainText('Warm Bakes Daily');
  await expect(page.getByRole('tab', { name: /index\.html/ }).getByLabel('unsaved changes')).toBeVisible();
  await expect(page.getByLabel('Status')).toContainText('Unsaved changes');
  await screenshot(page, info, 'code-editor');
  await page.keyboard.press('Control+s');

  const versions = page.getByRole('listbox', { name: 'Versions' });
  await expect(versions.getByRole('option', { name: /Version 2/ })).toContainText('Edited index.html', { timeout: 30_000 });
  await expect(page.getByRole('tab', { name: /index\.html/ }).getByLabel('unsaved changes')).toHaveCount(0);
  await page.getByRole('tab', { name: 'Preview' }).click();
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Warm Bakes Daily', { timeout: 30_000 });

  // An older version opens read-only.
  await versions.getByRole('option', { name: /Version 1/ }).click();
  await page.getByRole('tab', { name: 'Code' }).click();
  await expect(page.getByText('An older version, read only.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Save' })).toHaveCount(0);
});

test('the Code Lab loads on its own: the workspace works without it, and a failed load says so and loads again', async ({ page }, info) => {
  test.setTimeout(180_000);
  // The Code Lab's WASM chunk is held until released, then refused until
  // let through.
  let release = () => {};
  const released = new Promise<void>((resolve) => { release = resolve; });
  let refuse = true;
  await page.route('**/pkg/split_code_lab.wasm', async (route) => {
    await released;
    await (refuse ? route.abort() : route.fallback());
  });
  await signUp(page, uniqueEmail('lazy'));
  // The page hydrates without it (startProject waits for that), and the
  // chat and the preview work.
  await startProject(page, 'A bakery landing page');
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily', { timeout: 120_000 });
  await page.getByRole('tab', { name: 'Code' }).click();
  const panel = page.getByRole('tabpanel', { name: 'Code' });
  await expect(panel.getByText('Loading the Code tab…')).toBeVisible();

  release();
  const failed = panel.getByRole('alert');
  await expect(failed).toContainText('The Code tab could not load', { timeout: 30_000 });
  await screenshot(page, info, 'code-lab-failed');
  refuse = false;
  await failed.getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByRole('tree', { name: 'Files' }).getByRole('treeitem', { name: 'index.html' })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('region', { name: 'index.html' }).locator('.cm-content')).toBeVisible({ timeout: 30_000 });
  await expect(failed).toHaveCount(0);
});

test('Ctrl+P goes to a file, and Search finds a string in two files and opens its line', async ({ page }, info) => {
  test.setTimeout(180_000);
  await signUp(page, uniqueEmail('palette'));
  await startProject(page, 'A bakery landing page');
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily', { timeout: 120_000 });
  await page.getByRole('tab', { name: 'Code' }).click();
  await expect(page.getByRole('region', { name: 'index.html' }).locator('.cm-content')).toBeVisible({ timeout: 30_000 });

  // Go to file: part of a name, then Enter.
  await page.keyboard.press('Control+p');
  const palette = page.getByRole('dialog', { name: 'Go to file' });
  await expect(palette).toBeVisible();
  await palette.getByRole('combobox', { name: 'Go to file' }).fill('sty');
  await expect(palette.getByRole('option').first()).toHaveText('style.css');
  await page.keyboard.press('Enter');
  await expect(palette).toHaveCount(0);
  await expect(page.getByRole('region', { name: 'style.css' })).toContainText('Warm and simple', { timeout: 30_000 });

  // Search in files: "order" as a whole word is in index.html and app.js.
  await page.keyboard.press('Control+Shift+F');
  const search = page.getByRole('search', { name: 'Search in files' });
  await search.getByRole('searchbox', { name: 'Search in files' }).fill('order');
  await search.getByLabel('Whole word').check();
  await page.keyboard.press('Enter');
  await expect(search.getByText('2 lines in 2 files')).toBeVisible();
  await expect(search.getByRole('region', { name: 'index.html' })).toContainText('13');
  const inScript = search.getByRole('region', { name: 'app.js' }).getByRole('button');
  await expect(inScript).toContainText("getElementById('order')");
  await screenshot(page, info, 'code-search');
  await inScript.click();
  await expect(page.getByRole('region', { name: 'app.js' })).toContainText('addEventListener', { timeout: 30_000 });
  await expect(page.getByLabel('Status')).toContainText('Ln 2, Col 1');

  // Ask where…: a question in plain words, ranked by words here (BM25).
  const askWhere = search.getByRole('region', { name: 'Ask where' });
  await askWhere.getByRole('searchbox', { name: 'Ask where…' }).fill('where does clicking order say thanks?');
  await askWhere.getByRole('searchbox', { name: 'Ask where…' }).press('Enter');
  await expect(askWhere.getByText('Ranked by words (BM25)')).toBeVisible();
  const best = askWhere.getByRole('listitem').first();
  await expect(best).toContainText('app.js:1–');
  await page.getByRole('tab', { name: /index\.html/ }).click();
  await best.getByRole('button').click();
  await expect(page.locator('.code-editor[aria-label="app.js"]')).toContainText('addEventListener', { timeout: 30_000 });
  await screenshot(page, info, 'code-ask-where');

  // Commands (Ctrl+Shift+P): every one listed; "theme" and Enter switches it.
  const theme = await page.locator('html').getAttribute('data-theme');
  await page.keyboard.press('Control+Shift+P');
  const commands = page.getByRole('dialog', { name: 'Commands' });
  await expect(commands.getByRole('option')).toHaveText([
    /^Save/, 'New file', /^Toggle terminal/, 'Toggle theme', 'Download zip', 'Restart preview', /^Search in files/,
  ]);
  await commands.getByRole('combobox', { name: 'Commands' }).fill('theme');
  await expect(commands.getByRole('option')).toHaveText(['Toggle theme']);
  await page.keyboard.press('Enter');
  await expect(commands).toHaveCount(0);
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme === 'dark' ? 'light' : 'dark');
  await expect(page.getByRole('button', { name: 'Dark mode' })).toHaveAttribute('aria-pressed', theme === 'dark' ? 'false' : 'true');
  await screenshot(page, info, 'code-editor-dark');
  // "Download zip" downloads the version.
  const download = page.waitForEvent('download');
  await page.keyboard.press('Control+Shift+P');
  await commands.getByRole('combobox', { name: 'Commands' }).fill('zip');
  await page.keyboard.press('Enter');
  expect((await download).suggestedFilename()).toMatch(/\.zip$/);
});

test('the explorer makes, renames and deletes files, each into a version', async ({ page }, info) => {
  test.setTimeout(180_000);
  await signUp(page, uniqueEmail('explorer'));
  await startProject(page, 'A bakery landing page');
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily', { timeout: 120_000 });
  await page.getByRole('tab', { name: 'Code' }).click();
  const tree = page.getByRole('tree', { name: 'Files' });
  const bar = page.getByRole('toolbar', { name: 'Files' });
  const versions = page.getByRole('listbox', { name: 'Versions' });

  // New file, in a new folder: a name a zip or Windows would mangle is refused.
  await bar.getByRole('button', { name: 'New file' }).click();
  const dialog = page.getByRole('dialog', { name: 'New file' });
  await dialog.getByLabel('Name').fill('notes/what?.md');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByText('which Windows does not allow in a name')).toBeVisible();
  await dialog.getByLabel('Name').fill('notes/todo.md');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(versions.getByRole('option', { name: /Version 2/ })).toContainText('Edited notes/todo.md', { timeout: 30_000 });
  await expect(tree.getByRole('treeitem', { name: 'todo.md' })).toBeVisible();

  // Rename, from the row's context menu.
  await tree.getByRole('treeitem', { name: 'style.css' }).click({ button: 'right' });
  await page.getByRole('menu').getByRole('menuitem', { name: 'Rename' }).click();
  const rename = page.getByRole('dialog', { name: 'Rename' });
  await expect(rename.getByLabel('New path')).toHaveValue('style.css');
  await rename.getByLabel('New path').fill('css/site.css');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await expect(tree.getByRole('treeitem', { name: 'site.css' })).toBeVisible({ timeout: 30_000 });
  await expect(tree.getByRole('treeitem', { name: 'style.css' })).toHaveCount(0);
  // Folded into the same version: no turn came between.
  await expect(versions.getByRole('option', { name: /Version 2/ })).toContainText('Edited 2 files');
  await screenshot(page, info, 'code-explorer');

  // Delete asks first; Cancel keeps the file.
  await tree.getByRole('treeitem', { name: 'app.js' }).click();
  await bar.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete' });
  await expect(confirm).toContainText('Delete app.js?');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(tree.getByRole('treeitem', { name: 'app.js' })).toBeVisible();
  await tree.getByRole('treeitem', { name: 'app.js' }).focus();
  await page.keyboard.press('Delete');
  await page.getByRole('dialog', { name: 'Delete' }).getByRole('button', { name: 'Delete' }).click();
  await expect(tree.getByRole('treeitem', { name: 'app.js' })).toHaveCount(0, { timeout: 30_000 });
  await expect(versions.getByRole('option')).toHaveCount(2);
  await expect(versions.getByRole('option', { name: /Version 2/ })).toContainText('Edited 3 files');

  // On a phone the Code Lab still works.
  await page.setViewportSize({ width: 375, height: 800 });
  await page.getByRole('button', { name: 'Code & preview' }).click();
  await page.getByRole('tab', { name: 'Code' }).click();
  await expect(bar.getByRole('button', { name: 'New file' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'index.html' }).locator('.cm-content')).toBeVisible();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(375);
  await screenshot(page, info, 'code-lab-375');
});

test('the terminal runs commands in the sandbox, and what they change is saved as a version', async ({ page }, info) => {
  test.setTimeout(180_000);
  await signUp(page, uniqueEmail('terminal'));
  await startProject(page, 'A bakery landing page');
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily', { timeout: 120_000 });
  await page.getByRole('tab', { name: 'Code' }).click();
  await page.getByRole('button', { name: 'Terminal', exact: true }).click();
  const terminal = page.getByRole('region', { name: 'Terminal' });
  await expect(terminal.getByRole('status')).toHaveText('Connected', { timeout: 60_000 });
  const screen = terminal.locator('.xterm-rows');
  await terminal.locator('.terminal-host').click();
  await page.keyboard.type('echo $((6*7))\n');
  await expect(screen).toContainText('42');

  // A file made in the terminal shows in the explorer, and Save changes keeps it.
  await page.keyboard.type('touch new.txt\n');
  const tree = page.getByRole('tree', { name: 'Files' });
  await expect(tree.getByRole('treeitem', { name: /new\.txt/ })).toBeVisible({ timeout: 30_000 });
  await expect(tree.getByRole('treeitem', { name: /new\.txt/ }).getByLabel('added')).toBeVisible();
  await screenshot(page, info, 'code-terminal');
  await terminal.getByRole('button', { name: /Save changes/ }).click();
  const versions = page.getByRole('listbox', { name: 'Versions' });
  await expect(versions.getByRole('option', { name: /Version 2/ })).toContainText('Changed in the terminal', { timeout: 30_000 });
  await expect(tree.getByRole('treeitem', { name: /new\.txt/ })).toBeVisible();
  await expect(tree.getByLabel('added')).toHaveCount(0);

  // Ctrl+` hides it; the shell goes on, with what it printed.
  await page.keyboard.press('Control+Backquote');
  await expect(terminal).toBeHidden();
  await page.keyboard.press('Control+Backquote');
  await expect(terminal).toBeVisible();
  await expect(screen).toContainText('touch new.txt');
});

test('Ask AI proposes a change to the selection as a diff, and Accept makes a version', async ({ page }, info) => {
  test.setTimeout(180_000);
  await signUp(page, uniqueEmail('ask-ai'));
  await startProject(page, 'A bakery landing page');
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Fresh Bakes Daily', { timeout: 120_000 });
  await page.getByRole('tab', { name: 'Code' }).click();
  const code = page.getByRole('region', { name: 'index.html' });
  const heading = code.locator('.cm-line', { hasText: 'Fresh Bakes Daily' });
  await expect(heading).toBeVisible({ timeout: 30_000 });
  // Select the heading's line (after its indentation), then Ctrl+K.
  await heading.click();
  await page.keyboard.press('End');
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await page.keyboard.press('Control+k');
  const ask = page.getByRole('region', { name: 'Ask AI' });
  await expect(ask.getByText('Instruction for the selected code')).toBeVisible();
  await ask.getByLabel('Instruction').fill('shout the heading');
  await page.keyboard.press('Enter');
  const proposal = ask.getByRole('region', { name: 'Proposed change' });
  await expect(proposal).toContainText('FRESH BAKES DAILY!', { timeout: 30_000 });
  await expect(proposal).toContainText('Fresh Bakes Daily');
  await screenshot(page, info, 'code-ask-ai');
  await proposal.getByRole('button', { name: 'Accept' }).click();

  const versions = page.getByRole('listbox', { name: 'Versions' });
  await expect(versions.getByRole('option', { name: /Version 2/ })).toContainText('AI edit: shout the heading', { timeout: 30_000 });
  await expect(code.locator('.cm-content')).toContainText('FRESH BAKES DAILY!');
  await page.getByRole('tab', { name: 'Preview' }).click();
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('FRESH BAKES DAILY!', { timeout: 30_000 });
});
