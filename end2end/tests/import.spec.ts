import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Page, TestInfo } from '@playwright/test';
import { gotoHydrated, screenshot, signUp, uniqueEmail, expect, test } from './helpers';

const preview = (page: Page) => page.frameLocator('iframe[title="Preview"]');
const REACT = join(__dirname, '..', '..', 'templates', 'react', 'files');

/** Writes `files` (path → text) as a zip at `into`, with Python's zipfile:
 * names are stored exactly as given, `../evil` included. */
function zip(into: string, files: Record<string, string>) {
  const script = [
    'import json, sys, zipfile',
    'files = json.loads(sys.stdin.read())',
    "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:",
    '    for name, text in files.items():',
    '        z.writestr(zipfile.ZipInfo(name), text)',
  ].join('\n');
  mkdirSync(dirname(into), { recursive: true });
  execFileSync('python3', ['-c', script, into], { input: JSON.stringify(files) });
}

/** A Vite + React app as a user would zip it: in its own folder, with the
 * node_modules folder they forgot to leave out. */
function viteApp(info: TestInfo): string {
  const template = (path: string) => readFileSync(join(REACT, path), 'utf8');
  const files: Record<string, string> = {};
  for (const path of ['package.json', 'package-lock.json', 'index.html', 'vite.config.ts', 'tsconfig.json', 'src/main.tsx', 'src/index.css']) {
    files[`kanban-import/${path}`] = template(path);
  }
  files['kanban-import/src/App.tsx'] =
    'export default function App() {\n  return <h1 className="text-3xl font-bold">Imported kanban board</h1>;\n}\n';
  files['kanban-import/node_modules/left-pad/index.js'] = 'module.exports = () => {};\n';
  const path = info.outputPath('kanban-import.zip');
  zip(path, files);
  return path;
}

/** Drags `paths` (files or folders on disk) in from outside the browser and
 * drops them at (x, y), as a person does: Chromium's DevTools protocol gives
 * the page real files, with entries a folder can be walked through. */
async function dropFromDesktop(page: Page, paths: string[], x: number, y: number, drop = true) {
  const cdp = await page.context().newCDPSession(page);
  const data = { items: [], files: paths, dragOperationsMask: 1 };
  await cdp.send('Input.dispatchDragEvent', { type: 'dragEnter', x, y, data });
  await cdp.send('Input.dispatchDragEvent', { type: 'dragOver', x, y, data });
  if (drop) await cdp.send('Input.dispatchDragEvent', { type: 'drop', x, y, data });
  await cdp.detach();
}

test('a zip of a Vite app imports as a react project whose preview runs', async ({ page }, info) => {
  test.setTimeout(240_000);
  await signUp(page, uniqueEmail('import-zip'));
  await gotoHydrated(page, '/projects');
  const form = page.getByRole('region', { name: 'Import a project' });
  await form.getByLabel('Zip file').setInputFiles(viteApp(info));
  await expect(form.getByLabel('Template')).toHaveValue('');
  await screenshot(page, info, 'projects-import');
  await form.getByRole('button', { name: 'Import project' }).click();

  await expect(page).toHaveURL(/\/projects\/[^/]+$/);
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Imported kanban board', { timeout: 180_000 });
  const versions = page.getByRole('listbox', { name: 'Versions' });
  await expect(versions.getByRole('option', { name: /Version 1/ })).toContainText('Imported kanban-import');
  await page.getByRole('tab', { name: 'Code' }).click();
  await expect(page.getByRole('treeitem', { name: /App\.tsx/ })).toBeVisible();
  await expect(page.getByRole('treeitem', { name: /node_modules/ })).toHaveCount(0);

  await gotoHydrated(page, '/projects');
  const row = page.getByRole('listitem').filter({ hasText: 'kanban-import' });
  await expect(row).toContainText('react');
});

test('a folder imports as a static site, and a zip reaching outside the project is refused', async ({ page }, info) => {
  test.setTimeout(120_000);
  await signUp(page, uniqueEmail('import-folder'));

  const evil = info.outputPath('evil.zip');
  zip(evil, { 'index.html': '<h1>Hi</h1>', '../evil': 'gotcha' });
  await gotoHydrated(page, '/projects');
  let form = page.getByRole('region', { name: 'Import a project' });
  await form.getByLabel('Zip file').setInputFiles(evil);
  await form.getByRole('button', { name: 'Import project' }).click();
  await expect(page).toHaveURL(/\/projects#import$/);
  form = page.getByRole('region', { name: 'Import a project' });
  await expect(form.getByRole('alert')).toContainText('"../evil" cannot be imported');
  await expect(form.getByRole('alert')).toContainText('stay inside the project');
  await expect(page.getByRole('list', { name: 'Projects' })).toHaveCount(0);
  await screenshot(page, info, 'projects-import-refused');

  const folder = info.outputPath('bakery-site');
  mkdirSync(join(folder, 'css'), { recursive: true });
  writeFileSync(join(folder, 'index.html'), '<link rel="stylesheet" href="css/site.css"><h1>Folder bakery</h1>\n');
  writeFileSync(join(folder, 'css', 'site.css'), 'h1 { color: #b45309; }\n');
  await form.getByLabel('Folder').setInputFiles(folder);
  await form.getByRole('button', { name: 'Import project' }).click();
  await expect(page).toHaveURL(/\/projects\/[^/]+$/);
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Folder bakery', { timeout: 90_000 });
  await page.setViewportSize({ width: 375, height: 800 });
  await gotoHydrated(page, '/projects');
  await expect(page.getByRole('listitem').filter({ hasText: 'bakery-site' })).toContainText('static');
  // The refusal before is not shown again once an import went in.
  await expect(page.getByRole('region', { name: 'Import a project' }).getByRole('alert')).toHaveCount(0);
  await page.getByRole('region', { name: 'Import a project' }).scrollIntoViewIfNeeded();
  await screenshot(page, info, 'projects-import-375');
});

test('a zip or a folder dropped anywhere on /projects is imported; a refused one says why there', async ({ page }, info) => {
  test.setTimeout(120_000);
  await signUp(page, uniqueEmail('import-drop'));
  await gotoHydrated(page, '/projects');
  const heading = await page.getByRole('heading', { name: 'Your projects' }).boundingBox();
  const [x, y] = [heading!.x + 10, heading!.y + heading!.height / 2];

  const evil = info.outputPath('evil-drop.zip');
  zip(evil, { 'index.html': '<h1>Hi</h1>', '../evil': 'gotcha' });
  await dropFromDesktop(page, [evil], x, y, false);
  await expect(page.getByText('Drop a .zip or a folder to import it')).toBeVisible();
  await screenshot(page, info, 'projects-drop');
  await dropFromDesktop(page, [evil], x, y);
  const form = page.getByRole('region', { name: 'Import a project' });
  await expect(form.getByRole('alert')).toContainText('"../evil" cannot be imported');
  await expect(page.getByText('Drop a .zip or a folder to import it')).toBeHidden();
  await expect(page).toHaveURL(/\/projects$/);

  const folder = info.outputPath('dropped-bakery');
  mkdirSync(join(folder, 'css'), { recursive: true });
  mkdirSync(join(folder, 'node_modules', 'left-pad'), { recursive: true });
  writeFileSync(join(folder, 'index.html'), '<link rel="stylesheet" href="css/site.css"><h1>Dropped bakery</h1>\n');
  writeFileSync(join(folder, 'css', 'site.css'), 'h1 { color: #b45309; }\n');
  writeFileSync(join(folder, 'node_modules', 'left-pad', 'index.js'), 'module.exports = () => {};\n');
  await dropFromDesktop(page, [folder], x, y);
  await expect(page).toHaveURL(/\/projects\/[^/]+$/);
  await expect(preview(page).getByRole('heading', { level: 1 })).toHaveText('Dropped bakery', { timeout: 90_000 });
  await page.getByRole('tab', { name: 'Code' }).click();
  await expect(page.getByRole('treeitem', { name: /site\.css/ })).toBeVisible();
  await expect(page.getByRole('treeitem', { name: /node_modules/ })).toHaveCount(0);
  const versions = page.getByRole('listbox', { name: 'Versions' });
  await expect(versions.getByRole('option', { name: /Version 1/ })).toContainText('Imported dropped-bakery');
});
