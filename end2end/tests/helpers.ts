import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';

export { expect };

let counter = 0;

/** An email no other test uses. */
export function uniqueEmail(tag: string): string {
  counter += 1;
  return `${tag}-${Date.now()}-${process.pid}-${counter}@example.com`;
}

function randomAddress(): string {
  const octet = () => 1 + Math.floor(Math.random() * 250);
  return `10.${octet()}.${octet()}.${octet()}`;
}

/** Playwright's `test`, with every test's page coming from an address of its
 * own (through X-Forwarded-For, which the e2e server trusts), so sign-in
 * throttling in one test never locks out another. */
export const test = base.extend({
  page: async ({ page }, use) => {
    await page.setExtraHTTPHeaders({ 'x-forwarded-for': randomAddress() });
    await use(page);
  },
});

/** Opens `path` and waits until the WASM app has taken over the page (the
 * theme toggle is enabled only then), so clicks go through the app. */
export async function gotoHydrated(page: Page, path: string) {
  await page.goto(path);
  // A debug build's WASM compiles slowly on a busy machine.
  await expect(page.getByRole('button', { name: 'Dark mode' })).toBeEnabled({ timeout: 30_000 });
}

export const PASSWORD = 'correct horse battery staple';

/** Each account's monthly credits, as the server under test was started. */
export const CREDITS = process.env.OLLIO_FREE_CREDITS ?? '50';

export async function signUp(page: Page, email: string, password = PASSWORD) {
  await gotoHydrated(page, '/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page).toHaveURL(/\/projects$/);
}

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();
}

/** Saves a screenshot with the test's results, and for the README when
 * OLLIO_SCREENSHOTS names a folder. */
export async function screenshot(page: Page, info: TestInfo, name: string) {
  const shot = await page.screenshot({ fullPage: false });
  await info.attach(name, { body: shot, contentType: 'image/png' });
  const folder = process.env.OLLIO_SCREENSHOTS;
  if (folder) {
    mkdirSync(folder, { recursive: true });
    await page.screenshot({ path: join(folder, `${name}.png`) });
  }
}

/** A file to attach, as Playwright's file chooser takes it. */
export type Upload = { name: string; mimeType: string; buffer: Buffer };

/** Attaches `files` through the "Attach" button's file picker, in the form
 * `scope` (the page when not given). */
export async function attach(page: Page, files: Upload[], scope = page.locator('body')) {
  const chooser = page.waitForEvent('filechooser');
  await scope.getByRole('button', { name: 'Attach' }).click();
  await (await chooser).setFiles(files);
}

/** Starts a project from the home page's prompt box, from `template` (the
 * picker's label) when given, with `files` attached (each uploaded before
 * Build), and waits for the project page to hydrate. */
export async function startProject(page: Page, prompt: string, template?: string, files: Upload[] = []) {
  await gotoHydrated(page, '/');
  if (template) {
    const picker = page.getByRole('radiogroup', { name: 'Template' });
    await picker.getByRole('radio', { name: template }).check();
  }
  if (files.length > 0) {
    await attach(page, files);
    const chips = page.getByRole('list', { name: 'Attached files' }).getByRole('listitem');
    await expect(chips).toHaveCount(files.length);
    // Uploaded: each chip shows its size instead of "Uploading…".
    await expect(chips.filter({ hasText: 'Uploading' })).toHaveCount(0, { timeout: 30_000 });
  }
  await page.getByLabel('What do you want to build?').fill(prompt);
  await page.getByRole('button', { name: 'Build' }).click();
  await expect(page).toHaveURL(/\/projects\/[\w-]+$/);
  // The project page is a new page load: wait for its islands to hydrate
  // (the header's toggle first, the workspace in the same pass).
  await expect(page.getByRole('button', { name: 'Dark mode' })).toBeEnabled();
}

/** Sends a chat message once the box takes one. */
export async function send(page: Page, text: string) {
  const box = page.getByLabel('Message');
  await expect(box).toBeEnabled();
  await box.fill(text);
  await box.press('Enter');
}

/** Records each step label and training progress value the chat shows,
 * however briefly: in this page and every page it opens from now on (an
 * init script, so a turn that starts as its page loads is seen from its
 * first step). Call it before the turn starts. */
export async function recordSteps(page: Page) {
  const install = () => {
    const w = window as unknown as { ollioSteps?: { labels: string[]; progress: string[] } };
    if (w.ollioSteps) return;
    const seen = { labels: [] as string[], progress: [] as string[] };
    w.ollioSteps = seen;
    const look = () => {
      for (const label of document.querySelectorAll('.steps-list .step-label')) {
        const text = label.textContent ?? '';
        if (!seen.labels.includes(text)) seen.labels.push(text);
      }
      for (const bar of document.querySelectorAll<HTMLProgressElement>('.steps-list progress')) {
        const value = String(bar.value);
        if (seen.progress[seen.progress.length - 1] !== value) seen.progress.push(value);
      }
    };
    const observe = () => {
      look();
      new MutationObserver(look).observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
    };
    if (document.documentElement) observe();
    else document.addEventListener('DOMContentLoaded', observe);
  };
  await page.addInitScript(install);
  await page.evaluate(install);
}

export async function recordedSteps(page: Page): Promise<{ labels: string[]; progress: string[] }> {
  return page.evaluate(() => (window as unknown as { ollioSteps: { labels: string[]; progress: string[] } }).ollioSteps);
}

/** The scripted model server's record of what it was asked. */
export async function modelRequests(): Promise<{ model?: string; messages?: { role: string; content: unknown }[] }[]> {
  const base = (process.env.OPENAI_BASE_URL ?? '').replace(/\/v1$/, '');
  const answer = await fetch(`${base}/requests`);
  expect(answer.ok).toBeTruthy();
  return answer.json();
}

/** The text of every message the scripted model server was sent. */
export async function modelMessages(): Promise<string[]> {
  return (await modelRequests())
    .flatMap((request) => request.messages ?? [])
    .map((message) => (typeof message.content === 'string' ? message.content : ''));
}
