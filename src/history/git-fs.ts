import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

/**
 * The file system isomorphic-git reads and writes the repository through.
 *
 * - Its promise API is backed by synchronous calls: a save makes a few dozen tiny file
 *   operations, one writer at a time, and a thread-pool round trip for each cost more
 *   than the operations themselves (a quarter of a save was spent idle).
 * - Objects are written to a temporary file and renamed into place, so a process killed
 *   mid-write never leaves a truncated object that later writes would skip
 *   (isomorphic-git does not rewrite existing objects). The temporary file keeps its
 *   folder from being removed by a concurrent `git prune-packed` until the rename.
 * - With `fsync`, data and directory entries reach the disk before a write returns.
 */
export function createGitFs(opts: { fsync: boolean }) {
  function openTemp(dir: string): { tmp: string; fd: number } {
    for (let attempt = 0; ; attempt++) {
      const tmp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
      try {
        return { tmp, fd: fs.openSync(tmp, 'w', 0o444) };
      } catch (err) {
        // `git prune-packed` removes fan-out folders it empties, maybe just now.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw err;
        fs.mkdirSync(dir, { recursive: true });
      }
    }
  }
  function writeFileAtomic(file: string, data: string | Uint8Array, options?: fs.WriteFileOptions) {
    const { tmp, fd } = openTemp(dirname(file));
    try {
      fs.writeFileSync(fd, data, options);
      if (opts.fsync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.renameSync(tmp, file);
    } catch (err) {
      try { fs.unlinkSync(tmp); } catch { /* gone */ }
      throw err;
    }
    if (opts.fsync) syncDir(dirname(file));
  }
  // `async` turns a synchronous throw into the rejection isomorphic-git expects.
  const promises = {
    readFile: async (...a: Parameters<typeof fs.readFileSync>) => fs.readFileSync(...a),
    writeFile: async (file: string, data: string | Uint8Array, options?: fs.WriteFileOptions) => writeFileAtomic(file, data, options),
    unlink: async (p: string) => fs.unlinkSync(p),
    readdir: async (...a: Parameters<typeof fs.readdirSync>) => fs.readdirSync(...a),
    mkdir: async (p: string, o?: fs.MakeDirectoryOptions) => { fs.mkdirSync(p, o); },
    rmdir: async (p: string) => fs.rmdirSync(p),
    rm: async (p: string, o?: fs.RmOptions) => fs.rmSync(p, o),
    stat: async (p: string) => fs.statSync(p),
    lstat: async (p: string) => fs.lstatSync(p),
    readlink: async (p: string) => fs.readlinkSync(p),
    symlink: async (t: string, p: string) => fs.symlinkSync(t, p),
    chmod: async (p: string, m: fs.Mode) => fs.chmodSync(p, m),
  };
  return { promises };
}

export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
