/**
 * The Images view against the real engine: an image this test built is listed, filtered, inspected
 * (config and history), tagged (the tag shows in the UI and in `docker images`), refused an invalid tag
 * without a request, and removed — removal tests only on the private engine (BERTH_TEST_PRIVATE_ENGINE=1).
 */
import { cliTags, createTestImage, docker, onPrivateEngine, privateEngineSkipReason, randomTestName, removeTestImage, type TestImage } from '../support/images';
import { expect, imageRow, selectImage, test } from './fixtures';

test.describe.configure({ mode: 'serial' });

let img: TestImage;
const containers: string[] = [];
const extraImages: string[] = [];

test.beforeAll(async () => {
  img = await createTestImage({
    name: randomTestName('e2e'),
    tag: 'v1',
    layers: 2,
    layerSize: 300_000,
    env: { APP_MODE: 'e2e' },
    labels: { 'org.example.team': 'berth' },
    workdir: '/srv',
    expose: ['8080/tcp'],
    cmd: ['/layer-0.bin', '--serve'],
  });
});

test.afterAll(async () => {
  for (const c of containers) await docker(['rm', '-f', c]).catch(() => undefined);
  for (const id of [img.id, ...extraImages]) await removeTestImage(id);
});

test('the image the test created is listed, and the filter narrows the list', async ({ app }) => {
  const grid = app.getByRole('grid', { name: 'Images' });
  await expect(imageRow(app, img.reference)).toBeVisible();
  await app.keyboard.press('/');
  await expect(app.getByLabel('Filter images')).toBeFocused();
  await app.keyboard.type(img.name);
  await expect(grid.locator('tbody tr')).toHaveCount(1);
  await expect(grid.locator('tbody tr')).toContainText(img.reference);
  await app.getByLabel('Filter images').fill(`${img.name}-no-such-image`);
  await expect(app.getByText('No image matches the filter')).toBeVisible();
  await app.getByRole('button', { name: 'Clear the filter' }).click();
  await expect(imageRow(app, img.reference)).toBeVisible();
});

test('an image built while the page is open appears without a reload (engine events)', async ({ app }) => {
  await expect(imageRow(app, img.reference)).toBeVisible();
  const late = await createTestImage({ name: randomTestName('late'), layers: 1 });
  extraImages.push(late.id);
  await expect(imageRow(app, late.reference)).toBeVisible();
});

test('details show the config, layers and history', async ({ app }) => {
  await app.getByLabel('Filter images').fill(img.name);
  await app.getByRole('button', { name: `Details of ${img.reference}` }).click();
  const panel = app.getByRole('complementary', { name: `Details of ${img.reference}` });
  const history = panel.getByRole('region', { name: 'History' });
  await expect(history).toContainText('COPY');
  await expect(history).toContainText('ENV APP_MODE');
  await expect(history).toContainText('WORKDIR /srv');
  const config = panel.getByRole('region', { name: 'Config' });
  await expect(config).toContainText('APP_MODE=e2e');
  await expect(config).toContainText('org.example.team=berth');
  await expect(config).toContainText('8080/tcp');
  await expect(config).toContainText('["/layer-0.bin","--serve"]');
  await expect(panel.getByRole('region', { name: 'Layers' })).toContainText('Layers (3)'); // two COPY layers + the one WORKDIR makes
  await expect(panel.getByRole('region', { name: 'Overview' })).toContainText('linux/amd64');
  // Keyboard: Esc closes the panel, Enter on the cursor row opens it again.
  await app.getByRole('grid', { name: 'Images' }).focus();
  await app.keyboard.press('Escape');
  await expect(panel).toBeHidden();
  await app.keyboard.press('ArrowDown');
  await app.keyboard.press('Enter');
  await expect(panel).toBeVisible();
  await app.getByLabel('Filter images').fill('');
  await app.getByLabel('Filter images').blur();
  await app.screenshot({ path: 'docs/images-view.png' });
});

test('an invalid tag is refused inline and nothing is sent', async ({ app }) => {
  const tagCalls: string[] = [];
  app.on('request', (r) => {
    if (r.url().includes('/api/call/images.tag')) tagCalls.push(r.url());
  });
  await selectImage(app, img.reference);
  await app.getByRole('button', { name: 'Tag…' }).click();
  const dialog = app.getByRole('dialog', { name: `Tag ${img.reference}` });
  const input = dialog.getByLabel('New reference');
  await input.fill(`${img.name}:bad!tag`);
  await expect(dialog.getByRole('alert')).toContainText("Tags may contain only letters");
  await expect(input).toHaveAttribute('aria-invalid', 'true');
  await expect(dialog.getByRole('button', { name: 'Add tag' })).toBeDisabled();
  await input.press('Enter');
  await input.fill(`${img.name.toUpperCase()}:v2`);
  await expect(dialog.getByRole('alert')).toContainText(/lowercase/i);
  await input.press('Enter');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();
  expect(tagCalls).toEqual([]);
});

test('tag it: the new tag appears in the UI and in docker images', async ({ app }) => {
  await selectImage(app, img.reference);
  await app.getByRole('button', { name: 'Tag…' }).click();
  const dialog = app.getByRole('dialog', { name: `Tag ${img.reference}` });
  await dialog.getByLabel('New reference').fill(`${img.name}:e2e-tagged`);
  await expect(dialog.getByText(`Will be tagged ${img.name}:e2e-tagged`)).toBeVisible();
  await dialog.getByRole('button', { name: 'Add tag' }).click();
  await expect(dialog).toBeHidden();
  await expect(imageRow(app, img.reference)).toContainText(`${img.name}:e2e-tagged`);
  expect(await cliTags(img.name)).toEqual([`${img.name}:e2e-tagged`, img.reference].sort());
});

test('removing an image a container uses names the container; force removes it', async ({ app }) => {
  test.skip(!onPrivateEngine, privateEngineSkipReason);
  const used = await createTestImage({ name: randomTestName('inuse'), cmd: ['/x'] });
  extraImages.push(used.id);
  const container = randomTestName('ctr');
  containers.push(container);
  await docker(['create', '--name', container, used.reference]);
  await app.reload();
  const row = imageRow(app, used.reference);
  await expect(row).toContainText('in use (1)');
  await selectImage(app, used.reference);
  await app.keyboard.press('Delete');
  const dialog = app.getByRole('dialog', { name: `Remove ${used.reference}?` });
  await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText(`In use by container ${container}`);
  await dialog.getByRole('button', { name: 'Force remove' }).click();
  await expect(dialog).toBeHidden();
  await expect(imageRow(app, used.reference)).toHaveCount(0);
  expect(await cliTags(used.name)).toEqual([]);
});

test('remove it: gone from the UI and from docker images', async ({ app }) => {
  test.skip(!onPrivateEngine, privateEngineSkipReason);
  const row = imageRow(app, img.reference);
  await selectImage(app, img.reference);
  await app.getByRole('button', { name: 'Remove', exact: true }).click();
  // The row (and the dialog) is named after the image's first tag, whichever the engine lists first.
  const dialog = app.getByRole('dialog', { name: new RegExp(`^Remove ${img.name}:(v1|e2e-tagged)\\?$`) });
  await expect(dialog).toContainText('all 2 of its tags');
  await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toHaveCount(0);
  expect(await cliTags(img.name)).toEqual([]);
});

test('prune dangling reports what it reclaimed', async ({ app }) => {
  test.skip(!onPrivateEngine, privateEngineSkipReason);
  // Building the same tag twice leaves the first image dangling.
  const name = randomTestName('dangling');
  const first = await createTestImage({ name, layers: 1, layerSize: 250_000 });
  extraImages.push(first.id);
  const second = await createTestImage({ name, layers: 1, layerSize: 250_000 });
  extraImages.push(second.id);
  await app.getByLabel('Filter images').fill('dangling');
  await expect(app.getByRole('grid', { name: 'Images' }).locator(`[data-id="${first.id}"]`)).toContainText('dangling');
  await app.getByRole('button', { name: 'Prune dangling' }).click();
  const dialog = app.getByRole('dialog', { name: 'Prune dangling images?' });
  await dialog.getByRole('button', { name: 'Prune' }).click();
  await expect(dialog.getByRole('status')).toContainText(/Removed \d+ images?; reclaimed \d/);
  await dialog.getByRole('button', { name: 'Close' }).first().click();
  await expect(app.getByRole('grid', { name: 'Images' }).locator(`[data-id="${first.id}"]`)).toHaveCount(0);
  await app.getByLabel('Filter images').fill(name);
  await expect(app.getByRole('grid', { name: 'Images' }).locator(`[data-id="${second.id}"]`)).toBeVisible();
});
