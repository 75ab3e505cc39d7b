/** The shell: token handling, navigation by keys, the bridge refusing calls without the token, the engine banner. */
import { startBerth, test, expect } from './fixtures';

test('the token leaves the address bar and the views switch with 1–5', async ({ app }) => {
  expect(app.url()).not.toContain('token=');
  await expect(app.getByRole('region', { name: 'Images' })).toBeVisible();
  await app.keyboard.press('2');
  await expect(app.getByRole('region', { name: 'Registry' })).toBeVisible();
  await app.keyboard.press('3');
  await expect(app.getByText('Remote registries arrive in a later version')).toBeVisible();
  await app.keyboard.press('4');
  await expect(app.getByRole('region', { name: 'Transfers' })).toBeVisible();
  await app.keyboard.press('5');
  await expect(app.getByRole('region', { name: 'About' }).or(app.getByLabel('About'))).toContainText('berth serve');
  // A reload keeps working: the token lives in sessionStorage.
  await app.reload();
  await expect(app.getByRole('navigation', { name: 'Views' })).toContainText(/Registry localhost:\d+/);
});

test('a bridge call without the token gets 401', async ({ request, berth }) => {
  const without = await request.post(`${berth.origin}/api/call/app.info`, { data: {} });
  expect(without.status()).toBe(401);
  const wrong = await request.post(`${berth.origin}/api/call/app.info`, { data: {}, headers: { authorization: 'Bearer nope' } });
  expect(wrong.status()).toBe(401);
  const withToken = await request.post(`${berth.origin}/api/call/app.info`, { data: {}, headers: { authorization: `Bearer ${berth.token}` } });
  expect(withToken.status()).toBe(200);
  expect((await withToken.json()).result.mode).toBe('serve');
});

test('a page opened without the token says how to get in, instead of failing view by view', async ({ page, berth }) => {
  await page.goto(`${berth.origin}/`);
  await expect(page.getByRole('alert', { name: 'Access' })).toContainText('no valid access token');
  await expect(page.getByRole('alert', { name: 'Engine status' })).toHaveCount(0);
});

test('with no engine answering, a banner says what to do', async ({ page }) => {
  const server = await startBerth({ env: { DOCKER_HOST: 'unix:///tmp/berth-e2e-no-engine-here.sock' }, registry: false });
  try {
    await page.goto(server.url);
    const banner = page.getByRole('alert', { name: 'Engine status' });
    await expect(banner).toContainText('No Docker engine is answering');
    await expect(banner).toContainText('berth-e2e-no-engine-here.sock');
    await expect(banner.getByRole('button', { name: 'Retry now' })).toBeVisible();
  } finally {
    await server.stop();
  }
});
