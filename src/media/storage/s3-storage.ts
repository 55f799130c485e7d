import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import {
  assertByteRange,
  assertContentType,
  assertStorageKey,
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

export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** An S3-compatible server (MinIO, R2, Ceph…); omitted means AWS itself. */
  endpoint?: string;
  /** `http://host/bucket/key` instead of `http://bucket.host/key`; most S3-compatible servers need it. */
  forcePathStyle?: boolean;
  /** Omitted means the SDK's default chain (environment, shared config, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Put before every key (`lectern/` → `lectern/originals/…`), to share a bucket. */
  prefix?: string;
  /** Where clients fetch objects directly (a CDN or a public bucket), without a trailing slash; omitted means the CMS serves them. */
  publicBaseUrl?: string;
  /** How long to wait for a connection and for a response to start (an upload counts its body); default 30 s. */
  requestTimeoutMs?: number;
  /** Attempts per request, retries included; default 3 (the SDK's). */
  maxAttempts?: number;
  /** Streams are uploaded in parts of this many bytes (at least 5 MiB, S3's minimum); default 8 MiB. */
  partSizeBytes?: number;
}

const MIB = 1024 * 1024;
const MIN_PART_SIZE = 5 * MIB;
const MAX_PARTS = 10_000;

/**
 * Objects in an S3-compatible bucket. A Buffer goes up in one PutObject. A stream is
 * read into memory one part at a time: if it ends within the first part it goes up in
 * one PutObject, otherwise as a multipart upload (one part in memory at a time), which
 * S3 assembles only on completion and which is aborted when the stream fails. So no put
 * leaves a partial object, and memory stays at about one part per put in progress.
 * Abort is best-effort: give the bucket a lifecycle rule that removes incomplete
 * multipart uploads.
 *
 * The SDK's default CRC32 request checksums are off (sent only where S3 requires them):
 * several S3-compatible servers reject them (or their aws-chunked encoding of streams).
 */
export class S3Storage implements Storage {
  readonly kind = 's3';
  readonly description: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly publicBaseUrl: string | null;
  private readonly partSize: number;

  constructor(opts: S3StorageOptions) {
    this.bucket = opts.bucket;
    this.prefix = normalizePrefix(opts.prefix ?? '');
    this.publicBaseUrl = opts.publicBaseUrl ? opts.publicBaseUrl.replace(/\/+$/, '') : null;
    this.partSize = opts.partSizeBytes ?? 8 * MIB;
    if (this.partSize < MIN_PART_SIZE) throw new RangeError(`partSizeBytes must be at least ${MIN_PART_SIZE} (S3's minimum part size)`);
    const where = opts.endpoint ? `at ${redactEndpoint(opts.endpoint)}` : `in AWS ${opts.region}`;
    this.description = `s3 bucket ${opts.bucket}${this.prefix ? ` (prefix ${this.prefix})` : ''} ${where}`;
    const timeout = opts.requestTimeoutMs ?? 30_000;
    this.client = new S3Client({
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      forcePathStyle: opts.forcePathStyle ?? false,
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      maxAttempts: opts.maxAttempts ?? 3,
      // No socket idle timeout: a download paused by a slow client must not break.
      requestHandler: { connectionTimeout: timeout, requestTimeout: timeout, throwOnRequestTimeout: true },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, body: Buffer | Readable, opts: PutOptions): Promise<void> {
    try {
      const Key = this.objectKey(key);
      assertContentType(opts.contentType);
      if (Buffer.isBuffer(body)) {
        if (opts.size !== undefined && body.length !== opts.size) throw new StorageSizeMismatchError(key, opts.size, body.length);
        await this.putObject(key, Key, body, opts.contentType);
      } else {
        await this.putStream(key, Key, body, opts);
      }
    } catch (err) {
      if (!Buffer.isBuffer(body)) body.destroy();
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<ObjectStream> {
    const Key = this.objectKey(key);
    if (range) assertByteRange(range);
    const header = range ? `bytes=${range.start}-${range.end === Infinity ? '' : range.end}` : undefined;
    let res;
    try {
      res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, ...(header ? { Range: header } : {}) }));
    } catch (err) {
      if (range && isRangeNotSatisfiable(err)) {
        const info = await this.stat(key);
        if (!info) throw new StorageNotFoundError(this.description, key);
        throw new RangeNotSatisfiableError(key, range, info.size);
      }
      throw this.failure(err, key);
    }
    const stream = res.Body as Readable | undefined;
    if (!stream) throw new StorageUnavailableError(this.description, `GetObject ${Key} returned no body`);
    const contentType = res.ContentType ?? null;
    const served = parseContentRange(res.ContentRange);
    if (!range) return { stream, size: res.ContentLength ?? 0, contentType, range: null };
    if (!served) {
      stream.destroy();
      throw new StorageUnavailableError(this.description, `GetObject ${Key} ignored the range ${header}`);
    }
    // Some servers answer an unsatisfiable range of an empty object with 206 rather than 416.
    if (range.start >= served.size) {
      stream.destroy();
      throw new RangeNotSatisfiableError(key, range, served.size);
    }
    const expectedEnd = Math.min(range.end, served.size - 1);
    if (served.start !== range.start || served.end !== expectedEnd) {
      stream.destroy();
      throw new StorageUnavailableError(this.description, `GetObject ${Key} answered bytes ${served.start}-${served.end} to ${header}`);
    }
    return { stream, size: served.size, contentType, range: { start: served.start, end: served.end } };
  }

  async stat(key: string): Promise<StoredObjectInfo | null> {
    const Key = this.objectKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { size: res.ContentLength ?? 0, contentType: res.ContentType ?? null };
    } catch (err) {
      const failure = this.failure(err, key);
      if (failure instanceof StorageNotFoundError) return null;
      throw failure;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      // S3 answers 204 for a missing key too.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      const failure = this.failure(err, key);
      if (!(failure instanceof StorageNotFoundError)) throw failure;
    }
  }

  url(key: string): string | null {
    const Key = this.objectKey(key);
    return this.publicBaseUrl === null ? null : `${this.publicBaseUrl}/${Key}`;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    assertStorageKey(key);
    return this.prefix + key;
  }

  private async putObject(key: string, Key: string, body: Buffer, contentType: string): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({
        Bucket: this.bucket, Key, Body: body, ContentType: contentType, ContentLength: body.length,
      }));
    } catch (err) {
      throw this.failure(err, key);
    }
  }

  private async putStream(key: string, Key: string, body: Readable, opts: PutOptions): Promise<void> {
    // A known size may need bigger parts to fit S3's 10 000 parts.
    const partSize = Math.max(this.partSize, Math.ceil((opts.size ?? 0) / MAX_PARTS));
    let chunks: Buffer[] = [];
    let buffered = 0;
    let total = 0;
    let upload: MultipartUpload | null = null;
    try {
      for await (const chunk of body as AsyncIterable<Buffer | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        chunks.push(bytes);
        buffered += bytes.length;
        total += bytes.length;
        if (opts.size !== undefined && total > opts.size) throw new StorageSizeMismatchError(key, opts.size, total);
        while (buffered >= partSize) {
          const all = Buffer.concat(chunks, buffered);
          chunks = buffered > partSize ? [all.subarray(partSize)] : [];
          buffered -= partSize;
          upload ??= await this.startUpload(key, Key, opts.contentType);
          await this.uploadPart(key, upload, all.subarray(0, partSize));
        }
      }
      if (opts.size !== undefined && total !== opts.size) throw new StorageSizeMismatchError(key, opts.size, total);
      const rest = Buffer.concat(chunks, buffered);
      if (!upload) return await this.putObject(key, Key, rest, opts.contentType);
      if (rest.length > 0) await this.uploadPart(key, upload, rest);
      try {
        await this.client.send(new CompleteMultipartUploadCommand({
          Bucket: this.bucket, Key, UploadId: upload.id, MultipartUpload: { Parts: upload.parts },
        }));
      } catch (err) {
        throw this.failure(err, key);
      }
    } catch (err) {
      if (upload) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: upload.id }))
          .catch(() => { /* best effort: the bucket's lifecycle rule removes what is left */ });
      }
      throw err;
    }
  }

  private async startUpload(key: string, Key: string, contentType: string): Promise<MultipartUpload> {
    try {
      const res = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ContentType: contentType }));
      if (!res.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      return { key: Key, id: res.UploadId, parts: [] };
    } catch (err) {
      throw this.failure(err, key);
    }
  }

  private async uploadPart(key: string, upload: MultipartUpload, bytes: Buffer): Promise<void> {
    const PartNumber = upload.parts.length + 1;
    try {
      const res = await this.client.send(new UploadPartCommand({
        Bucket: this.bucket, Key: upload.key, UploadId: upload.id, PartNumber, Body: bytes, ContentLength: bytes.length,
      }));
      upload.parts.push({ PartNumber, ETag: res.ETag });
    } catch (err) {
      throw this.failure(err, key);
    }
  }

  /** Turns an SDK error into the port's: a missing key, or a storage that cannot serve. */
  private failure(err: unknown, key: string): Error {
    const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    // A missing bucket is a misconfiguration, not a missing object (HEAD cannot tell them apart).
    if (e.name !== 'NoSuchBucket' && (e.name === 'NoSuchKey' || e.name === 'NotFound' || status === 404)) {
      return new StorageNotFoundError(this.description, key);
    }
    const message = e.message || e.code || String(err);
    const reason = status ? `${e.name ?? 'error'} (HTTP ${status}): ${message}` : message;
    return new StorageUnavailableError(this.description, reason, { cause: err });
  }
}

interface MultipartUpload {
  key: string;
  id: string;
  parts: CompletedPart[];
}

function isRangeNotSatisfiable(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'InvalidRange' || e.$metadata?.httpStatusCode === 416;
}

/** `bytes 0-9/100` → the served offsets and the whole size; null when absent or unreadable. */
function parseContentRange(header: string | undefined): { start: number; end: number; size: number } | null {
  const m = header ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim()) : null;
  return m ? { start: Number(m[1]), end: Number(m[2]), size: Number(m[3]) } : null;
}

function normalizePrefix(prefix: string): string {
  const bare = prefix.replace(/\/+$/, '');
  if (bare === '') return '';
  assertStorageKey(bare);
  return `${bare}/`;
}

/** The endpoint without user info, query or fragment, so a description never carries a secret. */
function redactEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return 'an unparseable endpoint';
  }
}
