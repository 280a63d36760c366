import { defineConfig } from '@playwright/test';

// The app under test: started by `cargo leptos end-to-end` (see scripts/test.sh),
// which also sets PLAYWRIGHT_BASE_URL to where it listens.
const baseURL = process.env.PLAYWRIGHT_BASE_URL ?? 'http://127.0.0.1:3000';

// Debian's Chromium, never a downloaded browser. These flags keep it from
// reaching for the network this machine does not have.
const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
  ],
};

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  outputDir: 'test-results',
  use: {
    baseURL,
    launchOptions,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'js',
      use: { javaScriptEnabled: true },
    },
    {
      // The server-rendered page must stand alone.
      name: 'no-js',
      use: { javaScriptEnabled: false },
      testMatch: /.*\.ssr\.spec\.ts/,
    },
  ],
});
