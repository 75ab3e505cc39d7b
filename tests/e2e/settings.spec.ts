/**
 * Settings against a real `berth serve` of its own (it moves the registry, so it does not share the
 * worker's server): a bad port is refused inline; a good one is saved and the registry answers there.
 */
import { freePort } from '../support/reference-registry';
import { startBerth, test, expect } from './fixtures';

test('the registry port is validated inline, saved, and the registry moves there', async ({ page }) => {
  const server = await startBerth();
  try {
    await page.goto(server.url);
    await page.keyboard.press('5');
    const form = page.getByRole('form', { name: 'Registry settings' });
    const port = form.getByLabel('Port');
    await port.fill('70000');
    await expect(form).toContainText('A port is a number from 1 to 65535.');
    await expect(form.getByRole('button', { name: 'Save' })).toBeDisabled();

    const next = await freePort();
    await port.fill(String(next));
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('status', { name: 'Notifications' })).toContainText('Settings saved');
    await page.keyboard.press('2');
    await expect(page.getByLabel('Registry status')).toContainText(`localhost:${next}`);
    const v2 = await fetch(`http://127.0.0.1:${next}/v2/`);
    expect(v2.status).toBe(200);
  } finally {
    await server.stop();
  }
});
