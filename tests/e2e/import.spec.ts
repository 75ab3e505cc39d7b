/**
 * The import sheet against a real `berth serve`: a `docker save` tarball chosen with the file picker is
 * uploaded (PUT /api/uploads), previewed (tags, platform, layers, sizes, config) and imported into the
 * embedded registry under the tags chosen; the registry serves them and Transfers shows the job. A file
 * dropped on the window opens the same sheet; a file that is not an image archive is refused with the reason.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDockerArchive } from '../fixtures/archives';
import { createTestImage, docker, randomTestName, removeTestImage, type TestImage } from '../support/images';
import { expect, test } from './fixtures';

test.describe.configure({ mode: 'serial' });

let img: TestImage;
let dir: string;
let archive: string;

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-e2e-import-'));
  img = await createTestImage({ name: randomTestName('imp'), tag: 'v1', layers: 2, layerSize: 400_000, env: { FROM_ARCHIVE: '1' }, cmd: ['/layer-0.bin'], workdir: '/app' });
  archive = join(dir, `${img.name}.tar`);
  await docker(['save', '-o', archive, img.reference]);
});

test.afterAll(async () => {
  await removeTestImage(img.reference);
  rmSync(dir, { recursive: true, force: true });
});

test('a docker save archive is previewed, then imported into the registry under the chosen tags', async ({ app, berth }) => {
  await app.getByLabel('Choose archives to import').setInputFiles(archive);
  const sheet = app.getByRole('dialog', { name: 'Import archives' });
  const card = sheet.getByRole('region', { name: `Archive ${img.name}.tar` });
  const preview = card.getByRole('table', { name: 'Images in the archive' });
  await expect(preview).toContainText(img.reference);
  await expect(preview).toContainText('linux/amd64');
  await expect(preview).toContainText('/layer-0.bin');
  await expect(preview.getByRole('row').nth(1).getByRole('cell').nth(3)).toHaveText('3');
  await expect(card.getByLabel('Repository')).toHaveValue(img.name);
  await expect(card.getByLabel('Tags')).toHaveValue('v1');
  await expect(card).toContainText(/layers are stored as they are|layers compressed/);
  await app.screenshot({ path: 'docs/import-sheet.png' });

  // A bad tag is refused before anything is sent.
  await card.getByLabel('Tags').fill('v1, -bad');
  await expect(card.getByRole('alert')).toContainText('Tag "-bad"');
  await expect(card.getByRole('button', { name: 'Import into the registry' })).toBeDisabled();

  await card.getByLabel('Tags').fill('v1, imported');
  await card.getByRole('button', { name: 'Import into the registry' }).click();
  const result = card.getByRole('status', { name: 'Import result' });
  await expect(result).toContainText(`${img.name}:v1, imported`, { timeout: 60_000 });

  // The registry serves what the UI says it imported.
  const tags = await (await fetch(`http://${berth.registry}/v2/${img.name}/tags/list`)).json();
  expect(tags.tags.sort()).toEqual(['imported', 'v1']);

  await result.getByRole('button', { name: 'Show in Registry' }).click();
  await expect(sheet).toBeHidden();
  await expect(app.getByRole('complementary', { name: `Repository ${img.name}` }).getByRole('table', { name: `Tags of ${img.name}` })).toContainText('imported');

  await app.keyboard.press('4');
  const job = app.getByRole('list', { name: 'Jobs' }).getByRole('article').filter({ hasText: `(${img.name})` });
  await expect(job).toContainText('import');
  await expect(job).toContainText('done');
});

test('a file dropped anywhere on the window opens the sheet; a non-archive is refused with the reason', async ({ app }) => {
  const notArchive = join(dir, 'notes.txt');
  writeFileSync(notArchive, 'this is not an image archive\n');
  const files = [
    { name: `${img.name}.tar`, data: readFileSync(archive).toString('base64') },
    { name: 'notes.txt', data: readFileSync(notArchive).toString('base64') },
  ];
  await app.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0))], f.name));
    const target = document.querySelector('.main') ?? document.body;
    for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
  const sheet = app.getByRole('dialog', { name: 'Import archives' });
  await expect(sheet.getByRole('region', { name: `Archive ${img.name}.tar` }).getByRole('table', { name: 'Images in the archive' })).toContainText(img.reference);
  await expect(sheet.getByRole('region', { name: 'Archive notes.txt' }).getByRole('alert')).toContainText(/archive/i);
  await app.keyboard.press('Escape');
  await expect(sheet).toBeHidden();
});

test('an archive with several images gets one repository and tags row per image', async ({ app, berth }) => {
  const multi = join(dir, 'two-images.tar');
  await writeDockerArchive(multi, [
    { tags: ['berth-test-front:1'], layers: [[{ name: 'index.html', content: 'front' }]] },
    { tags: ['berth-test-back:2'], layers: [[{ name: 'server', content: 'back' }]] },
  ]);
  await app.getByLabel('Choose archives to import').setInputFiles(multi);
  const card = app.getByRole('dialog', { name: 'Import archives' }).getByRole('region', { name: 'Archive two-images.tar' });
  const rows = card.getByRole('table', { name: 'Repository and tags per image' });
  await expect(rows.getByLabel('Repository for image 1')).toHaveValue('berth-test-front');
  await expect(rows.getByLabel('Tags for image 1')).toHaveValue('1');
  await expect(rows.getByLabel('Repository for image 2')).toHaveValue('berth-test-back');

  // A bad name in one row is refused, naming the row.
  await rows.getByLabel('Repository for image 2').fill('Team/Back');
  await expect(card.getByRole('alert')).toContainText('Image 2:');
  await expect(card.getByRole('button', { name: 'Import into the registry' })).toBeDisabled();

  await rows.getByLabel('Repository for image 2').fill('team/berth-test-back');
  await rows.getByLabel('Tags for image 2').fill('2, stable');
  await card.getByRole('button', { name: 'Import into the registry' }).click();
  await expect(card.getByRole('status', { name: 'Import result' })).toContainText('team/berth-test-back:2, stable', { timeout: 60_000 });
  const back = await (await fetch(`http://${berth.registry}/v2/team/berth-test-back/tags/list`)).json();
  expect(back.tags.sort()).toEqual(['2', 'stable']);
  // The untouched image keeps the name it carries in the archive.
  const front = await (await fetch(`http://${berth.registry}/v2/berth-test-front/tags/list`)).json();
  expect(front.tags).toEqual(['1']);
});
