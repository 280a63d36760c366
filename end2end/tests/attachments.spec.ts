import { attach, expect, screenshot, signUp, startProject, test, uniqueEmail } from './helpers';

// Files attached to a follow-up in any project: picked with "Attach" or
// dropped on the message box, refused with a reason when they cannot go
// (nothing typed is lost), and kept with the message as chips and
// thumbnails.

/** An 8×8 PNG. */
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAYAAADED76LAAAAEklEQVR4nGOI9nvwHx9mGBkKAD4logHPqcARAAAAAElFTkSuQmCC';

const csv = (name: string) => ({ name, mimeType: 'text/csv', buffer: Buffer.from('product,price\nbread,3\ncake,12\n') });

test('attachments: picked and dropped files go with a message as chips and thumbnails; bad ones are refused and the draft stays', async ({ page }, info) => {
  test.setTimeout(180_000);
  await signUp(page, uniqueEmail('files'));
  await startProject(page, 'A page about these files');
  await expect(page.getByText('Wrote a quick page.')).toBeVisible({ timeout: 90_000 });

  const form = page.locator('form.message-box');
  const box = page.getByLabel('Message');
  const staged = form.getByRole('list', { name: 'Attached files' }).getByRole('listitem');
  const problem = form.getByRole('alert');
  await expect(box).toBeEnabled();
  await box.fill('Show these files on the page');

  // Too large, refused before uploading; the wrong type, refused by the
  // server from its bytes; one too many. The draft is kept each time.
  await attach(page, [{ name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.alloc(20 * 1024 * 1024 + 1, 97) }], form);
  await expect(problem).toHaveText('big.txt is larger than 20.0 MB, the most one file can be.');
  await attach(page, [{ name: 'notes.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ\u0000\u0001') }], form);
  await expect(problem).toContainText('notes.exe is not a file Ollio takes');
  await expect(staged).toHaveCount(0);
  await attach(page, ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => csv(`${n}.csv`)), form);
  await expect(problem).toHaveText('Attach at most 5 files to one message.');
  await expect(staged).toHaveCount(5);
  await expect(box).toHaveValue('Show these files on the page');
  // "Remove" takes each back off, from the keyboard too.
  for (const name of ['a', 'b', 'c', 'd']) {
    await form.getByRole('button', { name: `Remove ${name}.csv` }).click();
  }
  await form.getByRole('button', { name: 'Remove e.csv' }).press('Enter');
  await expect(staged).toHaveCount(0);

  // One file picked, one image dropped on the box.
  await attach(page, [csv('prices.csv')], form);
  const dropped = await page.evaluateHandle((base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'dot.png', { type: 'image/png' }));
    return data;
  }, PNG_BASE64);
  await form.dispatchEvent('drop', { dataTransfer: dropped });
  await expect(staged).toHaveCount(2);
  await expect(staged.filter({ hasText: 'Uploading' })).toHaveCount(0, { timeout: 30_000 });
  await expect(form.getByRole('img', { name: 'dot.png (attached image)' })).toBeVisible();
  await expect(problem).toHaveCount(0);
  await screenshot(page, info, 'project-attachments');
  await box.press('Enter');

  // Sent: the box is empty again, and the message keeps its files.
  await expect(staged).toHaveCount(0);
  await expect(box).toHaveValue('');
  const message = page.locator('.message-user').filter({ hasText: 'Show these files on the page' });
  const thumbnail = message.getByRole('img', { name: 'dot.png (attached image)' });
  await expect(message.getByRole('link', { name: 'prices.csv' })).toBeVisible();
  await expect(thumbnail).toBeVisible();
  await expect(page.getByText('Wrote a quick page.')).toHaveCount(2, { timeout: 90_000 });
  // The thumbnail is the image itself, served to its owner.
  await expect.poll(() => thumbnail.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(8);
  // A reload reads them back from the server.
  await page.reload();
  await expect(message.getByRole('link', { name: 'prices.csv' })).toBeVisible();
  await expect(message.getByRole('img', { name: 'dot.png (attached image)' })).toBeVisible();
});
