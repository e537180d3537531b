/** For the storage-fault tests: fills a (small, test-mounted) filesystem up. */
import { open } from 'node:fs/promises';
import { join } from 'node:path';

/** Writes zeros into dir/filler until the filesystem is full; returns the filler's path (remove it to free the space). */
export async function fillDisk(dir: string): Promise<string> {
  const path = join(dir, 'filler');
  const file = await open(path, 'w');
  const chunk = Buffer.alloc(16 * 1024);
  try {
    for (;;) await file.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await file.close().catch(() => undefined);
  }
  return path;
}
