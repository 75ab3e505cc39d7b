/**
 * The Registry view against the embedded registry of a real `berth serve`: after a `docker push` to its
 * port the repository is listed with its tags; the browser opens tag → manifest → layers, config and
 * history; the commands carry the registry's exact address; deleting a tag and reclaiming space work.
 */
import { existsSync, statSync } from 'node:fs';
import { createTestImage, docker, randomTestName, removeTestImage, type TestImage } from '../support/images';
import { expect, test } from './fixtures';

test.describe.configure({ mode: 'serial' });

let img: TestImage;
let repo: string;
const pushed: string[] = [];

test.beforeAll(async ({ berth }) => {
  expect(berth.registry, `the registry did not start:\n${berth.output()}`).toBeTruthy();
  img = await createTestImage({ name: randomTestName('reg'), tag: 'v1', layers: 2, layerSize: 500_000, env: { REG: 'yes' }, cmd: ['/layer-1.bin'] });
  repo = img.name;
  for (const tag of ['v1', 'v2']) {
    const ref = `${berth.registry}/${repo}:${tag}`;
    await docker(['tag', img.reference, ref]);
    pushed.push(ref);
    await docker(['push', ref]);
  }
});

test.afterAll(async () => {
  for (const ref of pushed) await removeTestImage(ref);
  await removeTestImage(img.reference);
});

test('a pushed repository is listed and browsed down to layers, config and history', async ({ app, berth }) => {
  await app.keyboard.press('2');
  const view = app.getByRole('region', { name: 'Registry' });
  await expect(view.getByLabel('Registry status')).toContainText('running');
  await expect(view.getByLabel('Registry status')).toContainText(berth.registry as string);
  const row = view.getByRole('grid', { name: 'Repositories' }).getByRole('row').filter({ hasText: repo });
  await expect(row).toBeVisible();
  await expect(row.getByRole('gridcell').nth(1)).toHaveText('2');
  await row.click();

  const panel = app.getByRole('complementary', { name: `Repository ${repo}` });
  const tags = panel.getByRole('table', { name: `Tags of ${repo}` });
  await expect(tags.getByRole('row')).toHaveCount(3);
  await tags.getByRole('cell', { name: 'v1', exact: true }).click();
  const manifest = panel.getByRole('region', { name: `Manifest of ${repo}:v1` });
  await expect(manifest).toContainText('application/vnd.docker.distribution.manifest.v2+json');
  await expect(manifest.getByRole('table', { name: 'Layers' }).getByRole('row')).toHaveCount(2);
  await expect(manifest).toContainText('REG=yes');
  await expect(manifest.getByRole('table', { name: 'History' })).toContainText('COPY');

  // The commands use this registry's address and the chosen repository.
  const commands = view.getByLabel('Commands');
  await commands.getByLabel('Repository').fill(repo);
  await expect(commands).toContainText(`docker push ${berth.registry}/${repo}:latest`);
  await expect(commands).toContainText(`docker login ${berth.registry}`);
  await commands.getByLabel('Repository').blur();
  await app.screenshot({ path: 'docs/registry-view.png' });
});

test('deleting a tag keeps the other, and reclaim space reports what it freed', async ({ app }) => {
  await app.keyboard.press('2');
  const view = app.getByRole('region', { name: 'Registry' });
  await view.getByRole('grid', { name: 'Repositories' }).getByRole('row').filter({ hasText: repo }).click();
  const panel = app.getByRole('complementary', { name: `Repository ${repo}` });
  await panel.getByRole('button', { name: 'Delete tag v2' }).click();
  const dialog = app.getByRole('dialog', { name: `Delete tag ${repo}:v2?` });
  await dialog.getByRole('button', { name: 'Delete tag' }).click();
  await expect(dialog).toBeHidden();
  const tags = panel.getByRole('table', { name: `Tags of ${repo}` });
  await expect(tags.getByRole('row')).toHaveCount(2);
  await expect(tags).toContainText('v1');
  await expect(tags).not.toContainText('v2');

  await view.getByRole('button', { name: 'Reclaim space' }).click();
  await expect(view.getByLabel('Storage').getByRole('status')).toContainText(/Freed .* in /);
});

test('export a tag from the registry to an archive: the job shows in Transfers and the file is written', async ({ app, berth }) => {
  await app.keyboard.press('2');
  await app.getByRole('grid', { name: 'Repositories' }).getByRole('row').filter({ hasText: repo }).click();
  await app.getByRole('button', { name: `Export ${repo}:v1` }).click();
  const dialog = app.getByRole('dialog', { name: `Export ${repo}:v1` });
  const path = `${berth.dataDir}/${repo}-v1.tar`;
  await expect(dialog.getByLabel(/Archive path/)).toHaveValue(path);
  await dialog.getByLabel(/Archive path/).fill('');
  await expect(dialog.getByText('Enter where to write the archive.')).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Export' })).toBeDisabled();
  await dialog.getByLabel(/Archive path/).fill(path);
  await dialog.getByRole('button', { name: 'Export' }).click();
  await expect(dialog).toBeHidden();
  await app.keyboard.press('4');
  const job = app.getByRole('list', { name: 'Jobs' }).getByRole('article').filter({ hasText: 'export' }).first();
  await expect(job).toContainText('done', { timeout: 60_000 });
  expect(existsSync(path)).toBe(true);
  expect(statSync(path).size).toBeGreaterThan(1_000_000);
});
