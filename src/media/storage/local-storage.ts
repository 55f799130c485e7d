import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import {
  assertByteRange,
  assertContentType,
  assertStorageKey,
  InvalidStorageKeyError,
  RangeNotSatisfiableError,
  StorageNotFoundError,
  StorageSizeMismatchError,
  StorageUnavailableError,
  type ByteRange,
  type ObjectStream,
  type PutOptions,
  type Storage,
  type StoredObjectInfo,
} from './storage.js';

/**
 * Bookkeeping lives beside the objects, under a name no key can take (a key's segments
 * never start with a dot): temp files must be on the same filesystem as their target
 * for rename to be atomic.
 */
const OWN_DIR = '.lectern';
/** A temp file untouched this long belongs to a put that died with its process. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** Errors that mean the disk, not the caller, is at fault: a 503 rather than a 500. */
const UNAVAILABLE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO', 'EMFILE', 'ENFILE']);
/** A key that needs a folder where a file is, or a file where a folder is (S3 has no folders, a disk does). */
const SHAPE_CODES = new Set(['ENOTDIR', 'EISDIR', 'EEXIST']);

/**
 * Objects as plain files in a folder (./data/media by default), so an operator can back
 * them up, inspect them or `aws s3 sync` them as they are. Each object's content type
 * sits in a sidecar, `.lectern/meta/<key>.json`; a file copied into the folder by hand
 * is served with a null content type.
 *
 * A put writes `.lectern/tmp/<random>`, syncs it, then renames the sidecar and the file
 * into place. Two puts of one key racing with different content types may pair the
 * bytes of one with the type of the other; the CMS gives every upload its own key.
 */
export class LocalStorage implements Storage {
  readonly kind = 'local';
  readonly description: string;
  readonly root: string;
  private readonly tmpDir: string;
  private readonly metaDir: string;
  private prepared: Promise<void> | null = null;

  constructor(rootDir: string) {
    this.root = resolve(rootDir);
    this.tmpDir = join(this.root, OWN_DIR, 'tmp');
    this.metaDir = join(this.root, OWN_DIR, 'meta');
    this.description = `local storage at ${this.root}`;
  }

  async put(key: string, body: Buffer | Readable, opts: PutOptions): Promise<void> {
    let tmp: string | null = null;
    try {
      const path = this.pathOf(key);
      const metaPath = this.metaPathOf(key);
      assertContentType(opts.contentType);
      await this.prepare();
      tmp = join(this.tmpDir, randomBytes(12).toString('hex'));
      await writeDurably(tmp, body, key, opts.size);
      await writeFile(`${tmp}.json`, JSON.stringify({ contentType: opts.contentType }));
      await mkdir(dirname(path), { recursive: true });
      await mkdir(dirname(metaPath), { recursive: true });
      // The type first: a new key then appears only once its type can be read.
      await rename(`${tmp}.json`, metaPath);
      await rename(tmp, path);
    } catch (err) {
      if (!Buffer.isBuffer(body)) body.destroy();
      if (tmp) await Promise.all([rm(tmp, { force: true }), rm(`${tmp}.json`, { force: true })]);
      throw this.failure(err, key);
    }
  }

  async get(key: string, range?: ByteRange): Promise<ObjectStream> {
    const path = this.pathOf(key);
    if (range) assertByteRange(range);
    // Reading through one descriptor keeps size and bytes consistent when a put replaces the file meanwhile.
    const handle = await open(path, 'r').catch((err: unknown) => {
      throw isMissing(err) ? new StorageNotFoundError(this.description, key) : this.failure(err, key);
    });
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new StorageNotFoundError(this.description, key);
      const size = info.size;
      let served: ByteRange | null = null;
      if (range) {
        if (range.start >= size) throw new RangeNotSatisfiableError(key, range, size);
        served = { start: range.start, end: Math.min(range.end, size - 1) };
      }
      const contentType = await this.contentTypeOf(key);
      const stream = handle.createReadStream(served ? { start: served.start, end: served.end } : {});
      return { stream, size, contentType, range: served };
    } catch (err) {
      await handle.close();
      throw this.failure(err, key);
    }
  }

  async stat(key: string): Promise<StoredObjectInfo | null> {
    const path = this.pathOf(key);
    try {
      const info = await stat(path);
      if (!info.isFile()) return null;
      return { size: info.size, contentType: await this.contentTypeOf(key) };
    } catch (err) {
      if (isMissing(err)) return null;
      throw this.failure(err, key);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await removeFile(path);
      await removeFile(this.metaPathOf(key));
    } catch (err) {
      throw this.failure(err, key);
    }
  }

  url(key: string): string | null {
    this.pathOf(key);
    return null;
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  private pathOf(key: string): string {
    assertStorageKey(key);
    const path = resolve(this.root, key);
    const base = this.root.endsWith(sep) ? this.root : this.root + sep;
    if (!path.startsWith(base)) throw new InvalidStorageKeyError(key, `it leaves ${this.root}`);
    return path;
  }

  private metaPathOf(key: string): string {
    return join(this.metaDir, `${key}.json`);
  }

  private async contentTypeOf(key: string): Promise<string | null> {
    try {
      const meta = JSON.parse(await readFile(this.metaPathOf(key), 'utf8')) as { contentType?: unknown };
      return typeof meta.contentType === 'string' ? meta.contentType : null;
    } catch (err) {
      if (isMissing(err) || err instanceof SyntaxError) return null;
      throw err;
    }
  }

  /** Makes the temp folder and, once per process, removes what crashed puts left in it. */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      await mkdir(this.tmpDir, { recursive: true });
      const now = Date.now();
      for (const name of await readdir(this.tmpDir)) {
        const path = join(this.tmpDir, name);
        const info = await lstat(path).catch(() => null);
        if (info && now - info.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true, recursive: true });
      }
    })().catch((err: unknown) => {
      this.prepared = null;
      throw err;
    });
    return this.prepared;
  }

  /** Turns a filesystem error into the port's errors; the caller's own errors (its stream's) pass unchanged. */
  private failure(err: unknown, key: string): unknown {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    if (code && UNAVAILABLE_CODES.has(code)) {
      return new StorageUnavailableError(this.description, (err as Error).message, { cause: err });
    }
    if (code && SHAPE_CODES.has(code) && (err as NodeJS.ErrnoException).syscall) {
      return new InvalidStorageKeyError(key, 'local storage has a file where the key needs a folder, or a folder where it needs a file');
    }
    return err;
  }
}

/**
 * Writes `body` to a new file and syncs it, so the rename that follows never exposes an
 * empty file after a crash. A body longer than `expected` is refused as soon as it is.
 */
async function writeDurably(path: string, body: Buffer | Readable, key: string, expected: number | undefined): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    let size = 0;
    const chunks = Buffer.isBuffer(body) ? [body] : (body as AsyncIterable<Buffer | string>);
    // Awaiting each write is the backpressure; a failing body throws out of the loop.
    for await (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (expected !== undefined && size > expected) throw new StorageSizeMismatchError(key, expected, size);
      for (let offset = 0; offset < bytes.length;) offset += (await handle.write(bytes, offset)).bytesWritten;
    }
    if (expected !== undefined && size !== expected) throw new StorageSizeMismatchError(key, expected, size);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return;
    // macOS says EPERM when asked to unlink a folder: a key naming a folder is no object.
    if (code === 'EPERM' && (await lstat(path).catch(() => null))?.isDirectory()) return;
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
