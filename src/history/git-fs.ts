import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

/**
 * The file system isomorphic-git writes through. Objects are written to a temporary
 * file and renamed into place, so a process killed mid-write never leaves a truncated
 * object that later writes would skip (isomorphic-git does not rewrite existing
 * objects). With `fsync`, data and directory entries reach the disk before the rename
 * is acknowledged, for power loss rather than process death.
 */
export function createGitFs(opts: { fsync: boolean }) {
  const p = fs.promises;
  async function writeFile(file: string, data: string | Uint8Array, options?: fs.WriteFileOptions) {
    const tmp = join(dirname(file), `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    const handle = await p.open(tmp, 'w', 0o444);
    try {
      await handle.writeFile(data, options as fs.ObjectEncodingOptions);
      if (opts.fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await p.rename(tmp, file);
    } catch (err) {
      await p.unlink(tmp).catch(() => {});
      throw err;
    }
    if (opts.fsync) await syncDir(dirname(file));
  }
  return { promises: { ...p, writeFile } };
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
