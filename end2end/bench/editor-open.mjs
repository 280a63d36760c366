// Figures for the Code tab's editor in Chromium: opening a 5,000-line file
// (mounting CodeMirror with it until the frame after, as the page does when
// a file is picked); target ≤ 100 ms. Run by `./scripts/bench.sh editor`
// with the release build's /pkg/editor.js. Prints figures; asserts nothing.

import { readFileSync } from 'node:fs';
import { chromium } from '@playwright/test';

const bundle = process.argv[2] ?? '../target/site/pkg/editor.js';
const RUNS = 20;
const LINES = 5000;

// A JavaScript file as apps have them: functions, objects, comments.
const doc = Array.from({ length: LINES }, (_, i) => {
  switch (i % 5) {
    case 0: return `// Step ${i}: what the next function does.`;
    case 1: return `export function step${i}(items, limit = ${i}) {`;
    case 2: return `  const kept = items.filter((item) => item.size < limit && item.name !== 'x${i}');`;
    case 3: return `  return { kept, count: kept.length, label: \`step ${i}\` };`;
    default: return '}';
  }
}).join('\n');

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const page = await browser.newPage();
await page.route('http://bench.invalid/**', (route) => {
  const url = new URL(route.request().url());
  if (url.pathname === '/pkg/editor.js') {
    return route.fulfill({ contentType: 'text/javascript', body: readFileSync(bundle) });
  }
  return route.fulfill({ contentType: 'text/html', body: '<!doctype html><html><body style="height:100vh"></body></html>' });
});
await page.goto('http://bench.invalid/');
const figures = await page.evaluate(async ({ doc, runs }) => {
  const frame = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const importStart = performance.now();
  const editor = await import('/pkg/editor.js');
  const importMs = performance.now() - importStart;
  const times = [];
  for (let run = 0; run < runs; run += 1) {
    const host = document.createElement('div');
    host.style.height = '600px';
    document.body.appendChild(host);
    const start = performance.now();
    const handle = editor.mount(host, 'src/steps.js', doc, false, () => {}, () => {}, () => {}, 0, () => {});
    await frame();
    times.push(performance.now() - start);
    handle.destroy();
    host.remove();
  }
  return { importMs, times };
}, { doc, runs: RUNS });
await browser.close();

const sorted = [...figures.times].sort((a, b) => a - b);
const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
console.log(`editor: import of /pkg/editor.js ${figures.importMs.toFixed(1)} ms (once per page)`);
console.log(
  `editor: open a ${LINES}-line file, ${RUNS} runs: median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms (target ≤ 100 ms)`,
);
