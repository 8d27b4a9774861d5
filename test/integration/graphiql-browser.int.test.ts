/**
 * GraphiQL in a real browser, offline: Debian's Chromium, driven by playwright-core, opens the
 * running demo with every request to anything but the gateway blocked, runs the first example
 * tab and finds the patient's family name in the result pane. Keeps a screenshot under
 * `test-results/` (git-ignored) and prints its path.
 *
 * Needs Chromium at /usr/bin/chromium (`apt-get install chromium`; `.ci/run` installs it) or at
 * FHIRGATE_CHROMIUM. Every wait is for a condition; the timeouts are backstops for a hung browser.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoProcess, startDemo } from '../helpers/demo-process.js';

const CHROMIUM = process.env['FHIRGATE_CHROMIUM'] ?? '/usr/bin/chromium';
const RESULTS_DIR = fileURLToPath(new URL('../../test-results/', import.meta.url));
const SCREENSHOT = join(RESULTS_DIR, 'graphiql-demo.png');
/** How long any one browser step may take on a loaded 2-core machine before the test gives up. */
const STEP_MS = 120_000;

// Flags for Chromium as root in a container with no network beyond loopback: without the
// background-networking ones it keeps trying to reach Google's hosts.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
];

let dataDir: string;
let demo: DemoProcess;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set FHIRGATE_CHROMIUM.`,
    );
  }
  dataDir = mkdtempSync(join(tmpdir(), 'fhirgate-browser-'));
  [demo, browser] = await Promise.all([
    startDemo(dataDir),
    chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: STEP_MS,
    }),
  ]);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
  if (dataDir !== undefined) {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

describe('GraphiQL in Chromium with the network blocked', () => {
  it('runs the first example and shows the family name in the result pane', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const gateway = new URL(demo.base).origin;
    const requested: string[] = [];
    const blocked: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      requested.push(url);
      if (new URL(url).origin === gateway) {
        return route.continue();
      }
      blocked.push(url);
      return route.abort('internetdisconnected');
    });
    const pageErrors: string[] = [];
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    page.on('pageerror', (err) => pageErrors.push(err.message));

    await page.goto(`${demo.base}/`);
    expect(new URL(page.url()).pathname).toBe('/graphql');
    // The first tab's text is in the editor: GraphiQL rendered, with the demo's examples.
    await page.waitForFunction(() =>
      document.querySelector('.graphiql-query-editor')?.textContent?.includes('PatientList'),
    );
    await page.locator('.graphiql-execute-button').click();
    await page.waitForFunction(() => {
      const text = document.querySelector('.graphiql-response')?.textContent ?? '';
      return text.includes('"family"') || text.includes('"errors"');
    });
    const result = (await page.locator('.graphiql-response').textContent()) ?? '';

    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    // biome-ignore lint/suspicious/noConsole: the artifact's path is part of the test's output.
    console.log(`GraphiQL screenshot: ${SCREENSHOT}`);
    const blockedWhileUsed = [...blocked];
    // The block is real: the page cannot reach the CDN Yoga's own page loads GraphiQL from.
    const outside = await page.evaluate(() =>
      fetch('https://unpkg.com/@graphql-yoga/graphiql/package.json').then(
        () => 'reached',
        () => 'blocked',
      ),
    );
    await context.close();

    expect(result).not.toContain('"errors"');
    expect(result).toContain('"Soto"');
    expect(blockedWhileUsed).toEqual([]);
    expect(outside).toBe('blocked');
    expect(blocked).toEqual(['https://unpkg.com/@graphql-yoga/graphiql/package.json']);
    expect(requested.filter((url) => url.startsWith(`${gateway}/graphiql/`))).toHaveLength(5);
    expect(pageErrors).toEqual([]);
  }, 600_000);
});
