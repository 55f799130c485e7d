import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Errors } from '../errors.js';
import { RangeNotSatisfiableError, StorageNotFoundError, StorageUnavailableError, type Storage } from './storage/storage.js';

/**
 * Where files live in the storage. Keys come from content hashes and ids, never from
 * an uploaded file's name, and a key's bytes never change once written: URLs built on
 * them can be cached forever.
 */
export const mediaKeys = {
  /** Content-addressed: the same bytes always have the same key. */
  originalImage: (hash: string, extension: string) => `original_images/${hash.slice(0, 2)}/${hash}.${extension}`,
  /** Per image, original bytes, filter spec and focal point. */
  rendition: (imageId: number, originalHash: string, fileSafeSpec: string, focalPointKey: string, extension: string) =>
    `renditions/${imageId}/${originalHash.slice(0, 12)}.${fileSafeSpec}${focalPointKey ? `.fp${focalPointKey}` : ''}.${extension}`,
  document: () => `documents/${randomUUID()}`,
};

/** Key prefixes served publicly under /media/ (documents go through /documents/ with their name). */
export const PUBLIC_MEDIA_PREFIXES = ['original_images/', 'renditions/'];

/**
 * The URL of a publicly served file: the storage's own (a CDN or public bucket) when it
 * has one, else this API's `/media/<key>`, relative as Wagtail's file URLs are.
 */
export function mediaUrl(storage: Storage, key: string): string {
  return storage.url(key) ?? `/media/${key}`;
}

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Reads a whole stored object into memory (originals for renditions). */
export async function readObject(storage: Storage, key: string): Promise<Buffer> {
  const { stream } = await storage.get(key).catch((err) => { throw asClientError(err); });
  return readAll(stream);
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Storage failures as errors clients understand. */
export function asClientError(err: unknown): unknown {
  if (err instanceof StorageUnavailableError) return Errors.mediaStorageUnavailable([err.message]);
  if (err instanceof StorageNotFoundError) return Errors.notFound();
  if (err instanceof RangeNotSatisfiableError) {
    return Errors.rangeNotSatisfiable([`${err.range.start}-${Number.isFinite(err.range.end) ? err.range.end : ''}`, err.size], { headers: { 'content-range': `bytes */${err.size}` } });
  }
  return err;
}
