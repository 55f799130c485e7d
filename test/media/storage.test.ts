import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../src/media/storage/local-storage.js';
import { S3Storage, type S3StorageOptions } from '../../src/media/storage/s3-storage.js';
import {
  InvalidStorageKeyError,
  RangeNotSatisfiableError,
  StorageNotFoundError,
  StorageSizeMismatchError,
  StorageUnavailableError,
  type Storage,
} from '../../src/media/storage/storage.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';
import { freePort } from '../helpers/server-process.js';

const MIB = 1024 * 1024;

interface Harness {
  storage: Storage;
  /** Every file or object the storage holds, leftovers included (for local: also next to its root). */
  contents(): Promise<string[]>;
  close(): Promise<void>;
}

interface Adapter {
  kind: 'local' | 's3';
  open(): Promise<Harness>;
}

const adapters: Adapter[] = [
  {
    kind: 'local',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'lectern-storage-'));
      const storage = new LocalStorage(join(dir, 'media'));
      return {
        storage,
        contents: async () => walk(dir).map((path) => relative(dir, path)),
        async close() {
          await storage.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    kind: 's3',
    async open() {
      const server = await startS3Server();
      // The smallest part size S3 allows, so a 12 MiB stream goes up in parts.
      const storage = s3StorageFor(server, { partSizeBytes: 5 * MIB });
      const lister = new S3Client(s3ClientOptions(server));
      return {
        storage,
        async contents() {
          const res = await lister.send(new ListObjectsV2Command({ Bucket: server.bucket }));
          return (res.Contents ?? []).map((o) => o.Key!).sort();
        },
        async close() {
          await storage.close();
          lister.destroy();
          await server.close();
        },
      };
    },
  },
];

describe.each(adapters)('$kind storage', ({ kind, open }) => {
  let h: Harness;
  let storage: Storage;

  beforeAll(async () => {
    h = await open();
    storage = h.storage;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('round-trips a Buffer with its content type', async () => {
    const bytes = Buffer.from('%PDF-1.7 a small document');
    await storage.put('round-trip/doc.pdf', bytes, { contentType: 'application/pdf' });
    const got = await storage.get('round-trip/doc.pdf');
    expect(await readAll(got.stream)).toEqual(bytes);
    expect(got).toMatchObject({ size: bytes.length, contentType: 'application/pdf', range: null });
  });

  it('round-trips a stream, with and without its size declared', async () => {
    const bytes = randomBytes(300_000);
    await storage.put('round-trip/sized.bin', chunked(bytes), { contentType: 'application/octet-stream', size: bytes.length });
    await storage.put('round-trip/unsized.webp', chunked(bytes), { contentType: 'image/webp' });
    const sized = await storage.get('round-trip/sized.bin');
    expectBytes(await readAll(sized.stream), bytes);
    expect(sized.contentType).toBe('application/octet-stream');
    const unsized = await storage.get('round-trip/unsized.webp');
    expectBytes(await readAll(unsized.stream), bytes);
    expect(unsized).toMatchObject({ size: bytes.length, contentType: 'image/webp' });
  });

  it('stores and streams back a 5 MB object', async () => {
    const bytes = randomBytes(5_000_000);
    await storage.put('big/five-mb.bin', chunked(bytes), { contentType: 'video/mp4', size: bytes.length });
    const got = await storage.get('big/five-mb.bin');
    expect(got.size).toBe(bytes.length);
    expectBytes(await readAll(got.stream), bytes);
  });

  it('stores a stream larger than one upload part whole', async () => {
    const bytes = randomBytes(12 * MIB + 123);
    await storage.put('big/twelve-mib.bin', chunked(bytes, 256 * 1024), { contentType: 'video/mp4' });
    const got = await storage.get('big/twelve-mib.bin');
    expect(got).toMatchObject({ size: bytes.length, contentType: 'video/mp4' });
    expectBytes(await readAll(got.stream), bytes);
  });

  it('stores an empty object', async () => {
    await storage.put('empty/nothing.txt', Buffer.alloc(0), { contentType: 'text/plain' });
    const got = await storage.get('empty/nothing.txt');
    expect(await readAll(got.stream)).toEqual(Buffer.alloc(0));
    expect(await storage.stat('empty/nothing.txt')).toEqual({ size: 0, contentType: 'text/plain' });
    await expect(storage.get('empty/nothing.txt', { start: 0, end: 0 })).rejects.toMatchObject({ name: 'RangeNotSatisfiableError', size: 0 });
  });

  describe('range reads', () => {
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    beforeAll(async () => {
      await storage.put('ranges/data.bin', bytes, { contentType: 'application/octet-stream' });
    });

    it('reads the first bytes', async () => {
      const got = await storage.get('ranges/data.bin', { start: 0, end: 9 });
      expect(await readAll(got.stream)).toEqual(bytes.subarray(0, 10));
      expect(got).toMatchObject({ size: 1000, range: { start: 0, end: 9 }, contentType: 'application/octet-stream' });
    });

    it('reads bytes from the middle', async () => {
      const got = await storage.get('ranges/data.bin', { start: 400, end: 599 });
      expect(await readAll(got.stream)).toEqual(bytes.subarray(400, 600));
      expect(got.range).toEqual({ start: 400, end: 599 });
    });

    it('reads the last byte', async () => {
      const got = await storage.get('ranges/data.bin', { start: 999, end: 999 });
      expect(await readAll(got.stream)).toEqual(bytes.subarray(999));
      expect(got).toMatchObject({ size: 1000, range: { start: 999, end: 999 } });
    });

    it('cuts a range that ends past the object to its last byte', async () => {
      const got = await storage.get('ranges/data.bin', { start: 990, end: 5000 });
      expect(await readAll(got.stream)).toEqual(bytes.subarray(990));
      expect(got.range).toEqual({ start: 990, end: 999 });
      const open = await storage.get('ranges/data.bin', { start: 500, end: Infinity });
      expect(await readAll(open.stream)).toEqual(bytes.subarray(500));
      expect(open.range).toEqual({ start: 500, end: 999 });
    });

    it('refuses a range that starts past the end, with the object size', async () => {
      const err = await storage.get('ranges/data.bin', { start: 1000, end: 1010 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RangeNotSatisfiableError);
      expect(err).toMatchObject({ size: 1000, key: 'ranges/data.bin' });
    });

    it('refuses a malformed range as a programming error', async () => {
      await expect(storage.get('ranges/data.bin', { start: 5, end: 4 })).rejects.toBeInstanceOf(RangeError);
      await expect(storage.get('ranges/data.bin', { start: -1, end: 4 })).rejects.toBeInstanceOf(RangeError);
    });
  });

  it('reports stat and exists before a put, after it and after a delete', async () => {
    expect(await storage.stat('lifecycle/a.png')).toBeNull();
    expect(await storage.exists('lifecycle/a.png')).toBe(false);
    await storage.put('lifecycle/a.png', Buffer.alloc(1234, 7), { contentType: 'image/png' });
    expect(await storage.stat('lifecycle/a.png')).toEqual({ size: 1234, contentType: 'image/png' });
    expect(await storage.exists('lifecycle/a.png')).toBe(true);
    await storage.delete('lifecycle/a.png');
    expect(await storage.stat('lifecycle/a.png')).toBeNull();
    expect(await storage.exists('lifecycle/a.png')).toBe(false);
  });

  it('deletes idempotently', async () => {
    await storage.delete('never/was.txt');
    await storage.put('idempotent/x.txt', Buffer.from('x'), { contentType: 'text/plain' });
    await storage.delete('idempotent/x.txt');
    await storage.delete('idempotent/x.txt');
    expect(await storage.exists('idempotent/x.txt')).toBe(false);
  });

  it('replaces an object put again under the same key', async () => {
    await storage.put('overwrite/logo', Buffer.alloc(5000, 1), { contentType: 'image/png' });
    await storage.put('overwrite/logo', chunked(Buffer.from('<svg/>')), { contentType: 'image/svg+xml' });
    const got = await storage.get('overwrite/logo');
    expect(await readAll(got.stream)).toEqual(Buffer.from('<svg/>'));
    expect(got).toMatchObject({ size: 6, contentType: 'image/svg+xml' });
  });

  it('keeps keys in nested folders apart', async () => {
    const keys = ['nested/2024/06/a.jpg', 'nested/2024/07/a.jpg', 'nested/2024/06/renditions/a-fill-200x200.webp'];
    for (const key of keys) await storage.put(key, Buffer.from(key), { contentType: 'image/jpeg' });
    for (const key of keys) expect(await readAll((await storage.get(key)).stream)).toEqual(Buffer.from(key));
    const longest = `nested/${'x'.repeat(200)}/${'y'.repeat(200)}/${'z'.repeat(103)}`;
    expect(longest).toHaveLength(512);
    await storage.put(longest, Buffer.from('deep'), { contentType: 'text/plain' });
    expect(await storage.stat(longest)).toEqual({ size: 4, contentType: 'text/plain' });
  });

  it('refuses invalid keys everywhere and writes nothing', async () => {
    const before = await h.contents();
    const invalid = ['../x', '/abs', 'a//b', 'a/./b', 'a/../../x', 'x\u0000y', 'a'.repeat(513), '', 'dir/', '.lectern/tmp/x', 'a b', 'ü.png', `${'s'.repeat(201)}/x`];
    for (const key of invalid) {
      await expect(storage.put(key, Buffer.from('evil'), { contentType: 'text/plain' }), key).rejects.toBeInstanceOf(InvalidStorageKeyError);
      await expect(storage.put(key, chunked(Buffer.from('evil')), { contentType: 'text/plain' }), key).rejects.toBeInstanceOf(InvalidStorageKeyError);
      await expect(storage.get(key), key).rejects.toBeInstanceOf(InvalidStorageKeyError);
      await expect(storage.stat(key), key).rejects.toBeInstanceOf(InvalidStorageKeyError);
      await expect(storage.exists(key), key).rejects.toBeInstanceOf(InvalidStorageKeyError);
      await expect(storage.delete(key), key).rejects.toBeInstanceOf(InvalidStorageKeyError);
      expect(() => storage.url(key), key).toThrow(InvalidStorageKeyError);
    }
    expect(new InvalidStorageKeyError('../x', 'why')).toBeInstanceOf(TypeError);
    expect(await h.contents()).toEqual(before);
  });

  it('refuses a content type that cannot be a header, writing nothing', async () => {
    const before = await h.contents();
    await expect(storage.put('ct/x.txt', Buffer.from('x'), { contentType: 'text/plain\r\nX-Evil: 1' })).rejects.toBeInstanceOf(TypeError);
    expect(await h.contents()).toEqual(before);
  });

  it('leaves nothing behind when the input stream fails midway', async () => {
    const before = await h.contents();
    for (const failAfter of [200_000, 7 * MIB]) {
      await expect(storage.put('failed/upload.bin', failing(failAfter), { contentType: 'video/mp4' })).rejects.toThrow('client went away');
      await expect(storage.put('failed/sized.bin', failing(failAfter), { contentType: 'video/mp4', size: 20 * MIB })).rejects.toThrow('client went away');
    }
    expect(await storage.exists('failed/upload.bin')).toBe(false);
    expect(await storage.exists('failed/sized.bin')).toBe(false);
    expect(await h.contents()).toEqual(before);
  });

  it('keeps the old object when a put over it fails', async () => {
    await storage.put('failed/existing.txt', Buffer.from('old'), { contentType: 'text/plain' });
    const before = await h.contents();
    await expect(storage.put('failed/existing.txt', failing(100_000), { contentType: 'image/png' })).rejects.toThrow('client went away');
    const got = await storage.get('failed/existing.txt');
    expect(await readAll(got.stream)).toEqual(Buffer.from('old'));
    expect(got.contentType).toBe('text/plain');
    expect(await h.contents()).toEqual(before);
  });

  it('refuses a body whose length differs from the declared size, writing nothing', async () => {
    const before = await h.contents();
    const short = storage.put('mismatch/short.bin', chunked(randomBytes(1000)), { contentType: 'image/png', size: 2000 });
    await expect(short).rejects.toBeInstanceOf(StorageSizeMismatchError);
    const long = storage.put('mismatch/long.bin', chunked(randomBytes(3000)), { contentType: 'image/png', size: 2000 });
    await expect(long).rejects.toMatchObject({ name: 'StorageSizeMismatchError', expected: 2000 });
    await expect(storage.put('mismatch/buffer.bin', Buffer.alloc(10), { contentType: 'image/png', size: 11 })).rejects.toBeInstanceOf(StorageSizeMismatchError);
    expect(await h.contents()).toEqual(before);
  });

  it('lands every one of many concurrent puts of different keys', async () => {
    const objects = Array.from({ length: 24 }, (_, i) => ({ key: `concurrent/${i % 3}/obj-${i}.bin`, bytes: randomBytes(10_000 + i * 997) }));
    await Promise.all(objects.map(({ key, bytes }, i) =>
      storage.put(key, i % 2 ? bytes : chunked(bytes), { contentType: `application/x-test-${i}` })));
    for (const [i, { key, bytes }] of objects.entries()) {
      const got = await storage.get(key);
      expectBytes(await readAll(got.stream), bytes);
      expect(got.contentType).toBe(`application/x-test-${i}`);
    }
  });

  it('has no public URL, so the CMS serves the bytes', () => {
    expect(storage.url('originals/a.png')).toBeNull();
  });

  it('throws StorageNotFoundError for a missing key', async () => {
    const err = await storage.get('missing/nothing.png').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageNotFoundError);
    expect(err).toMatchObject({ key: 'missing/nothing.png', storage: storage.description });
    await expect(storage.get('missing/nothing.png', { start: 0, end: 10 })).rejects.toBeInstanceOf(StorageNotFoundError);
  });

  it('says which storage it is', () => {
    expect(storage.kind).toBe(kind);
    expect(storage.description).toMatch(kind === 'local' ? /^local storage at \// : /^s3 bucket lectern-media at http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('LocalStorage', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lectern-storage-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps objects as plain files an operator can copy', async () => {
    const storage = new LocalStorage(join(dir, 'plain'));
    await storage.put('originals/ab/photo.jpg', Buffer.from('jpeg bytes'), { contentType: 'image/jpeg' });
    expect(readFileSync(join(dir, 'plain/originals/ab/photo.jpg'), 'utf8')).toBe('jpeg bytes');
  });

  it('serves a file copied in by hand with no content type', async () => {
    const storage = new LocalStorage(join(dir, 'by-hand'));
    mkdirSync(join(dir, 'by-hand/imported'), { recursive: true });
    writeFileSync(join(dir, 'by-hand/imported/old.gif'), 'GIF89a');
    expect(await storage.stat('imported/old.gif')).toEqual({ size: 6, contentType: null });
  });

  it('removes temp files that a crashed put left behind', async () => {
    const root = join(dir, 'crashed');
    mkdirSync(join(root, '.lectern/tmp'), { recursive: true });
    const stale = join(root, '.lectern/tmp/deadbeef');
    const fresh = join(root, '.lectern/tmp/in-progress-elsewhere');
    writeFileSync(stale, 'half an upload');
    writeFileSync(fresh, 'an upload in another process');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(stale, twoHoursAgo, twoHoursAgo);
    await new LocalStorage(root).put('a.txt', Buffer.from('a'), { contentType: 'text/plain' });
    expect(readdirSync(join(root, '.lectern/tmp'))).toEqual(['in-progress-elsewhere']);
  });
});

describe('S3Storage', () => {
  let server: S3Server;
  beforeAll(async () => {
    server = await startS3Server('lectern-cdn');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('gives the public URL of an object when a public base URL is set', async () => {
    const storage = s3StorageFor(server, { prefix: 'lectern/', publicBaseUrl: 'https://cdn.example.com/media/' });
    try {
      expect(storage.url('originals/ab/photo.jpg')).toBe('https://cdn.example.com/media/lectern/originals/ab/photo.jpg');
    } finally {
      await storage.close();
    }
  });

  it('keeps every key under its prefix', async () => {
    const storage = s3StorageFor(server, { prefix: 'site-a' });
    const lister = new S3Client(s3ClientOptions(server));
    try {
      await storage.put('originals/x.png', Buffer.from('png'), { contentType: 'image/png' });
      const listed = await lister.send(new ListObjectsV2Command({ Bucket: server.bucket }));
      expect(listed.Contents?.map((o) => o.Key)).toEqual(['site-a/originals/x.png']);
      expect(await storage.stat('originals/x.png')).toEqual({ size: 3, contentType: 'image/png' });
      expect(storage.description).toContain('prefix site-a/');
    } finally {
      lister.destroy();
      await storage.close();
    }
  });

  it('fails fast with StorageUnavailableError when nothing listens, naming the storage and no secret', async () => {
    const port = await freePort();
    const storage = new S3Storage({
      endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', bucket: 'media', forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'very-secret-key' }, requestTimeoutMs: 1000,
    });
    try {
      const started = Date.now();
      for (const attempt of [
        () => storage.get('a.png'),
        () => storage.stat('a.png'),
        () => storage.put('a.png', Buffer.from('x'), { contentType: 'image/png' }),
        () => storage.delete('a.png'),
      ]) {
        const err = await attempt().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StorageUnavailableError);
        expect((err as Error).message).toContain(`s3 bucket media at http://127.0.0.1:${port}`);
        expect((err as Error).message).not.toContain('very-secret-key');
      }
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await storage.close();
    }
  });

  it('reports a missing bucket as unavailable, not as a missing object', async () => {
    const storage = s3StorageFor(server, { bucket: 'no-such-bucket' });
    try {
      await expect(storage.get('a.png')).rejects.toBeInstanceOf(StorageUnavailableError);
    } finally {
      await storage.close();
    }
  });

  it('never puts credentials or endpoint user info in its description', async () => {
    const storage = new S3Storage({
      endpoint: 'https://user:pass@minio.internal:9000/?token=abc', region: 'eu-west-1', bucket: 'media',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'very-secret-key' },
    });
    expect(storage.description).toBe('s3 bucket media at https://minio.internal:9000');
    await storage.close();
  });
});

function s3ClientOptions(server: S3Server) {
  return {
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  };
}

function s3StorageFor(server: S3Server, opts: Partial<S3StorageOptions> = {}): S3Storage {
  return new S3Storage({ ...s3ClientOptions(server), bucket: server.bucket, requestTimeoutMs: 10_000, ...opts });
}

/** `bytes` as a stream of small chunks, as an upload arrives. */
function chunked(bytes: Buffer, size = 64 * 1024): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  })());
}

/** A stream that sends `bytes` bytes and then fails, as a client that hangs up mid-upload. */
function failing(bytes: number): Readable {
  return Readable.from((async function* () {
    for (let sent = 0; sent < bytes; sent += 64 * 1024) yield randomBytes(64 * 1024);
    throw new Error('client went away');
  })());
}

/** Compares bytes without toEqual, which walks a Buffer element by element (seconds for a few hundred KB). */
function expectBytes(actual: Buffer, expected: Buffer): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected), 'the bytes differ').toBe(true);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  }).sort();
}
