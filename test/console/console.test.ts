import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { topicWithDeadLetters } from '../broker-host/fixtures.js';
import { startTestHost, TOKENS, type TestHost } from '../broker-host/host.js';
import { waitFor } from '../support/brook.js';
import { ensureConsoleBuilt, openPage } from './browser.js';

beforeAll(() => ensureConsoleBuilt(), 180_000);

/** `BROOK_SCREENSHOTS=1 npx vitest run test/console` refreshes the README's screenshots in docs/images/. */
const SCREENSHOTS = process.env.BROOK_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/images/', import.meta.url)) : undefined;

async function screenshot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS === undefined) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: false });
}

async function signIn(page: Page, host: TestHost, token: string): Promise<void> {
  await page.goto(`${host.url}/console/`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

describe('the console in a real browser', { timeout: 120_000 }, () => {
  it('is served with strict security headers and needs a token for every answer with data', async () => {
    const host = await startTestHost();
    const page = await fetch(`${host.url}/console/`);
    expect(page.status).toBe(200);
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await fetch(`${host.url}/console`, { redirect: 'manual' })).headers.get('location')).toBe('/console/');
    expect((await host.request('GET', '/api/v1/session', { token: null })).status).toBe(401);
    expect((await host.request('GET', '/api/v1/session', { token: 'operator' })).body).toEqual({ name: 'oncall', role: 'operator' });
  });

  it('lets an operator find a dead letter, dry-run its replay, replay it and see the group process it', async () => {
    const host = await startTestHost();
    const { topic, state, billing, deadLetters } = await topicWithDeadLetters(host.brook, { partitions: 2, failing: 2, passing: 1 });
    const { page, errors, context } = await openPage();

    await page.goto(`${host.url}/console/`);
    // Keyboard only: the token field has focus, Enter signs in.
    await page.getByLabel('Token').fill('not-a-token');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('did not accept this token');
    await page.getByLabel('Token').fill(TOKENS.operator);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(1);
    expect(await page.evaluate("localStorage.getItem('brook.console.token')")).toBeNull();

    await page.getByTestId('dead-letters').filter({ hasText: '2' }).waitFor();
    await expect.poll(() => page.getByRole('row').filter({ hasText: 'primary' }).count()).toBeGreaterThan(0);
    await screenshot(page, 'console-overview');

    await page.getByRole('link', { name: 'Dead letters' }).click();
    await page.getByLabel('Topic and group').selectOption({ label: `${topic} · billing` });
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.locator('table:not(:has(caption)) tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    await expect.poll(() => page.getByRole('button', { name: 'Purge…' }).count()).toBe(0);

    // Open the first: payload and error.
    await rows.first().click();
    const detail = page.getByLabel('Dead letter', { exact: true });
    await expect.poll(() => detail.textContent()).toContain('cannot bill order');
    expect(await detail.locator('pre').last().textContent()).toContain('"fail": true');
    await screenshot(page, 'console-dead-letters');

    // Select it, dry-run the replay, then replay.
    const first = deadLetters[0];
    const letter = page.getByRole('row').filter({ hasText: String(first.offset) }).filter({ has: page.getByRole('checkbox') }).first();
    await letter.getByRole('checkbox').check();
    state.failing = false;
    await page.getByRole('button', { name: 'Replay to group…' }).click();
    await expect.poll(() => page.getByTestId('dry-run').textContent()).toContain('1 dead letter match');
    expect((await host.brook.admin().deadLetters.count({ topic, group: 'billing' })).total).toBe(2);
    await page.getByRole('dialog').getByRole('button', { name: 'Replay' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toMatch(/Replayed 1 dead letters? to the group|Replay job/);
    await waitFor(() => billing.seen.some((seen) => seen.partition === first.partition && seen.offset === first.offset), { message: 'billing to process the replayed message' });

    await page.getByRole('link', { name: 'Audit log' }).click();
    await expect.poll(() => page.getByRole('row').filter({ hasText: 'oncall' }).count()).toBeGreaterThan(0);
    await screenshot(page, 'console-audit');

    // The one refused sign-in is the only failed request.
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
    await context.close();
  });

  it('shows a viewer no payloads and no actions, and lets an admin purge after a dry run', async () => {
    const host = await startTestHost();
    const { topic } = await topicWithDeadLetters(host.brook, { partitions: 1, failing: 2, passing: 0 });

    const viewer = await openPage();
    await signIn(viewer.page, host, TOKENS.viewer);
    await viewer.page.getByRole('link', { name: 'Dead letters' }).click();
    await expect.poll(() => viewer.page.getByText('Dead letters hold payloads').count()).toBe(1);
    expect(await viewer.page.getByRole('button', { name: /Replay/ }).count()).toBe(0);
    await viewer.page.getByRole('link', { name: 'Topics' }).click();
    await viewer.page.getByRole('link', { name: topic }).click();
    await expect.poll(() => viewer.page.getByText('Messages are shown to operators and admins.').count()).toBe(1);
    await viewer.page.getByRole('button', { name: 'Sign out' }).click();
    await viewer.page.getByLabel('Token').waitFor();
    expect(await viewer.page.evaluate('sessionStorage.length')).toBe(0);
    expect(viewer.errors).toEqual([]);
    await viewer.context.close();

    const admin = await openPage({ colorScheme: 'dark' });
    await signIn(admin.page, host, TOKENS.admin);
    expect(await admin.page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    await admin.page.getByRole('link', { name: 'Dead letters' }).click();
    await admin.page.getByLabel('Topic and group').selectOption({ label: `${topic} · billing` });
    await admin.page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => admin.page.locator('table:not(:has(caption)) tbody tr').count()).toBe(2);
    await admin.page.getByRole('button', { name: 'Purge…' }).click();
    await expect.poll(() => admin.page.getByTestId('dry-run').textContent()).toContain('2 dead letters match');
    expect((await host.brook.admin().deadLetters.count({ topic, group: 'billing' })).total).toBe(2);
    await admin.page.getByRole('dialog').getByRole('button', { name: 'Purge' }).click();
    await expect.poll(() => admin.page.getByRole('status').first().textContent()).toContain('Purged 2 dead letters.');
    expect((await host.brook.admin().deadLetters.count({ topic, group: 'billing' })).total).toBe(0);
    // Readable at 1280×800: nothing wider than the window.
    expect(await admin.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    expect(admin.errors).toEqual([]);
    await admin.context.close();
  });

  it('browses a partition with JSON pretty-printed and binary as hex, draws the lag chart, and resets a group after showing the change', async () => {
    const host = await startTestHost({ lagSampleIntervalMs: 200 });
    const topic = `orders.${Date.now().toString(36)}`;
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    await host.brook.producer().send({
      topic,
      messages: [
        { key: 'k1', value: { id: 1, items: ['a', 'b'] }, headers: { source: 'test' } },
        { key: 'k2', value: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
      ],
    });
    const consumer = host.brook.consumer({ group: 'audit' });
    await consumer.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    await consumer.run({ eachMessage: async () => void seen++ });
    await waitFor(() => seen === 2, { message: 'the audit group to read both messages' });
    await consumer.close();

    const { page, errors, context } = await openPage();
    await signIn(page, host, TOKENS.admin);
    await page.getByRole('link', { name: 'Topics' }).click();
    await page.getByRole('link', { name: topic }).click();
    await page.getByRole('button', { name: 'Browse' }).click();
    await page.getByRole('cell', { name: 'k1' }).click();
    await expect.poll(() => page.getByLabel('Message 0').textContent()).toContain('"items": [');
    await page.getByRole('cell', { name: 'k2' }).click();
    await expect.poll(() => page.getByLabel('Message 1').textContent()).toContain('de ad be ef');
    await screenshot(page, 'console-topic');

    await page.goto(`${host.url}/console/#/groups/audit`);
    // The active controller samples lag; the chart draws once samples exist (it refreshes every 10 s).
    await expect.poll(() => page.locator('.chart canvas').count(), { timeout: 30_000 }).toBe(1);
    await page.getByRole('button', { name: 'Reset offsets…' }).click();
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.textContent()).toContain('The group will continue from these offsets');
    await screenshot(page, 'console-groups');
    await dialog.getByRole('button', { name: 'Reset offsets' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Moved 1 partitions.');
    const described = await host.brook.admin().describeGroup({ group: 'audit', topic });
    expect(described.partitions[0].lag).toBe(2);
    expect(errors).toEqual([]);
    await context.close();
  });
});
