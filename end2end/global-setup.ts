import { request } from '@playwright/test';

// The servers start beside Playwright: wait until each answers its health
// check before any test runs (the bare one only where it is started).
export default async function globalSetup() {
  await healthy(process.env.PLAYWRIGHT_BASE_URL ?? 'http://127.0.0.1:3000');
  if (process.env.PLAYWRIGHT_BARE_URL) {
    await healthy(process.env.PLAYWRIGHT_BARE_URL);
  }
}

async function healthy(baseURL: string) {
  const context = await request.newContext({ baseURL });
  const deadline = Date.now() + 120_000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await context.get('/healthz', { timeout: 2_000 });
      if (response.ok()) {
        await context.dispose();
        return;
      }
      last = `HTTP ${response.status()}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await context.dispose();
  throw new Error(`the app at ${baseURL} did not become healthy: ${last}`);
}
