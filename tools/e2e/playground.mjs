// End-to-end test of `bp playground` in headless Chromium: load the XOR preset, train until every
// point is classified, check the status line and the page's pieces, take a screenshot.
// Usage: node playground.mjs URL SCREENSHOT.png
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const [url, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.BP_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 960 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // the 400 answer to the bad learning rate below is expected; anything else is not
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('status of 400')) {
      errors.push(m.text());
    }
  });
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#preset').options.length >= 6);
  const status = page.locator('#status');

  // the worked example: one Step gives the notes' weights and the trace of the sample
  await page.selectOption('#preset', 'worked-example');
  await page.click('#load');
  await assert.doesNotReject(status.filter({ hasText: 'Correct: 1/1 — Iteration: 0' }).waitFor());
  await page.click('#step');
  await status.filter({ hasText: 'Iteration: 1' }).waitFor();
  const weights = await page.locator('#weights').innerText();
  for (const w of ['0.093866', '0.137732', '0.360968', '0.653688']) {
    assert.ok(weights.includes(w), 'weights table lacks ' + w + ':\n' + weights);
  }
  assert.match(await page.locator('#trace-note').innerText(), /sample 1: activations a, deltas/);

  // XOR: the preset, then Train until 4/4
  await page.selectOption('#preset', 'xor');
  await page.click('#load');
  await status.filter({ hasText: 'Iteration: 0' }).waitFor();
  assert.equal(await page.locator('#points tbody tr').count(), 4);
  await page.click('#train');
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Correct: 4/4'),
    null, { timeout: 60000 });
  await page.click('#train'); // Pause
  const text = await status.innerText();
  assert.match(text, /^Correct: 4\/4 — Iteration: [1-9]\d*$/);
  assert.equal(await page.locator('#train').innerText(), 'Train');

  // a click on the plane adds a green point; a bad table entry shows the server's message
  const before = await page.locator('#points tbody tr').count();
  await page.click('#plane', { position: { x: 60, y: 60 } });
  await page.waitForFunction((n) => document.querySelectorAll('#points tbody tr').length === n + 1, before);
  await page.fill('#lr', '-1');
  await page.click('#reset');
  await page.locator('#error').filter({ hasText: 'lr: expected a number' }).waitFor();
  assert.match(await status.innerText(), /^Correct: \d\/5/);
  await page.fill('#lr', '0.05');
  await page.click('#plane', { position: { x: 60, y: 60 } });
  await page.locator('input[value=remove]').check();
  await page.click('#plane', { position: { x: 60, y: 60 } });
  await page.waitForFunction((n) => document.querySelectorAll('#points tbody tr').length === n + 1, before);

  // back to the trained XOR for the picture
  await page.locator('input[name=mode][value="1"]').check();
  await page.selectOption('#preset', 'xor');
  await page.click('#load');
  await page.click('#train');
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Correct: 4/4'),
    null, { timeout: 60000 });
  await page.waitForTimeout(1500);
  await page.click('#train');
  await page.waitForTimeout(300);
  await page.screenshot({ path: screenshot, fullPage: true });
  assert.deepEqual(errors, []);
  console.log('playground e2e: ' + (await status.innerText()) + '; screenshot ' + screenshot);
} finally {
  await browser.close();
}
