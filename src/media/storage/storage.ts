import type { Readable } from 'node:stream';

/**
 * The port every media storage adapter implements (DESIGN.md §3, Media): a local
 * directory (`local`, the default, ./data/media) or an S3-compatible bucket (`s3`).
 * Originals and renditions live here; their metadata lives in Postgres. Keys are chosen
 * by the CMS, never taken from a user's file name, and every adapter passes the same
 * suite (test/media/storage.test.ts).
 */
export interface Storage {
  readonly kind: 'local' | 's3';
  /** Says which storage this is, for logs and errors ("s3 bucket media at http://minio:9000"); never holds a secret. */
  readonly description: string;

  /**
   * Writes the whole object atomically: a reader sees the old object or the new one,
   * never a part, and a failed or aborted put leaves nothing behind (no temp file, no
   * partial object). When `opts.size` is given and the body has another length, the
   * put fails with StorageSizeMismatchError and writes nothing.
   */
  put(key: string, body: Buffer | Readable, opts: PutOptions): Promise<void>;
  /**
   * Streams the object, or the bytes of `range` in it. Throws StorageNotFoundError when
   * the object is absent and RangeNotSatisfiableError (carrying the object's size) when
   * the range starts at or past its end; a range ending past the end is cut to the end,
   * as HTTP does. The caller must consume or destroy the stream: it holds a file or a
   * connection open.
   */
  get(key: string, range?: ByteRange): Promise<ObjectStream>;
  /** The object's size and content type, or null when it is absent. */
  stat(key: string): Promise<StoredObjectInfo | null>;
  exists(key: string): Promise<boolean>;
  /** Idempotent: deleting a missing key is fine. */
  delete(key: string): Promise<void>;
  /**
   * A URL clients can fetch the object from directly (S3 with a configured public base
   * URL), or null: the CMS then serves the bytes itself.
   */
  url(key: string): string | null;
  /** Frees connections; the storage is not used afterwards. */
  close(): Promise<void>;
}

export interface PutOptions {
  /** The MIME type `get` and `stat` report back (and S3 serves as Content-Type). */
  contentType: string;
  /** The body's length in bytes, when known up front (streams); checked, not trusted. */
  size?: number;
}

export interface StoredObjectInfo {
  size: number;
  /** Null when the object was not written through this port (a file copied into the folder). */
  contentType: string | null;
}

/**
 * Inclusive byte offsets, as in an HTTP Range header. `end` may lie past the object
 * (it is then cut to the last byte); `Infinity` asks for everything from `start`, as
 * `bytes=500-` does.
 */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ObjectStream {
  stream: Readable;
  /** The size of the whole object, not of the range. */
  size: number;
  contentType: string | null;
  /** The bytes `stream` holds (the asked range cut to the object), or null when the whole object was asked for. */
  range: ByteRange | null;
}

/** Long enough for any key the CMS makes, short enough for every filesystem and S3 (1024). */
export const MAX_STORAGE_KEY_LENGTH = 512;

/** Leaves room under a filesystem's 255-byte name limit for the local adapter's sidecar suffix. */
export const MAX_STORAGE_KEY_SEGMENT_LENGTH = 200;

const KEY_CHARS = /^[A-Za-z0-9._/-]+$/;

/**
 * Refuses a key that is not 1–512 characters of [A-Za-z0-9._/-] in non-empty
 * `/`-separated segments of at most 200 characters. A segment may not start with `.`: that refuses `.` and `..`
 * (no escaping a folder) and hidden names, which the local adapter keeps for its own
 * bookkeeping (temp files, content types), so both adapters accept the same keys.
 */
export function assertStorageKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidStorageKeyError(String(key), 'it is empty');
  if (key.length > MAX_STORAGE_KEY_LENGTH) {
    throw new InvalidStorageKeyError(key, `it is longer than ${MAX_STORAGE_KEY_LENGTH} characters`);
  }
  if (!KEY_CHARS.test(key)) throw new InvalidStorageKeyError(key, 'only A-Z a-z 0-9 . _ / - are allowed');
  for (const segment of key.split('/')) {
    if (segment === '') throw new InvalidStorageKeyError(key, 'it has an empty segment (a leading, trailing or double /)');
    if (segment.length > MAX_STORAGE_KEY_SEGMENT_LENGTH) {
      throw new InvalidStorageKeyError(key, `a segment is longer than ${MAX_STORAGE_KEY_SEGMENT_LENGTH} characters`);
    }
    if (segment.startsWith('.')) throw new InvalidStorageKeyError(key, `the segment "${segment}" starts with a dot`);
  }
}

/**
 * Refuses a content type that could not travel as an HTTP header value (S3 stores it as
 * one): 1–255 printable ASCII characters.
 */
export function assertContentType(contentType: string): void {
  if (typeof contentType !== 'string' || !/^[\x20-\x7e]{1,255}$/.test(contentType)) {
    throw new TypeError(`invalid content type ${JSON.stringify(contentType)}: 1-255 printable ASCII characters are allowed`);
  }
}

/** Refuses a malformed range (a caller's bug, not a client's: parse the Range header first). */
export function assertByteRange(range: ByteRange): void {
  const { start, end } = range;
  const endOk = end === Infinity || (Number.isSafeInteger(end) && end >= start);
  if (!Number.isSafeInteger(start) || start < 0 || !endOk) {
    throw new RangeError(`invalid byte range ${start}-${end}: offsets are integers with 0 <= start <= end`);
  }
}

/** A key the CMS should never have made: a programming error, not a missing object. */
export class InvalidStorageKeyError extends TypeError {
  override name = 'InvalidStorageKeyError';
  constructor(readonly key: string, readonly reason: string) {
    super(`invalid storage key ${JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key)}: ${reason}`);
  }
}

export class StorageNotFoundError extends Error {
  override name = 'StorageNotFoundError';
  constructor(readonly storage: string, readonly key: string) {
    super(`${storage} has no object ${key}`);
  }
}

/** The range starts at or past the end of the object: a 416 with `Content-Range: bytes *\/size`. */
export class RangeNotSatisfiableError extends Error {
  override name = 'RangeNotSatisfiableError';
  constructor(readonly key: string, readonly range: ByteRange, readonly size: number) {
    super(`bytes ${range.start}-${range.end} of ${key} are not satisfiable: it has ${size} bytes`);
  }
}

/** The body of a put was not as long as its declared size (a truncated upload); nothing was written. */
export class StorageSizeMismatchError extends Error {
  override name = 'StorageSizeMismatchError';
  constructor(readonly key: string, readonly expected: number, readonly actual: number) {
    super(`the body for ${key} has ${actual} bytes, not the ${expected} declared`);
  }
}

/** The storage cannot be reached, answers with an error, or is misconfigured: a 503 for clients. */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
  constructor(readonly storage: string, readonly reason: string, opts?: { cause?: unknown }) {
    super(`${storage} is unavailable: ${reason}`, opts);
  }
}
