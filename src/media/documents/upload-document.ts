import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { lookup } from 'mime-types';
import { documents } from '../../db/schema.js';
import { Errors, type FieldError } from '../../errors.js';
import { asClientError, mediaKeys } from '../media-files.js';
import type { MediaContext, Uploader } from '../media-context.js';
import { cleanFileName, tagsFrom, throwIfInvalid, titleFrom, type UploadFields } from '../upload-fields.js';
import type { DocumentRow } from './document-store.js';

/** A document's file, stored under its own key, waiting for its row. */
export interface StoredDocumentFile {
  fileKey: string;
  fileName: string;
  contentType: string;
  size: number;
  hash: string;
}

/** The upload went over MAX_DOCUMENT_BYTES while it streamed. */
class TooLargeError extends Error {}

/**
 * Streams an uploaded document (any file) to storage under a key of its own, never
 * holding it whole in memory. Over MAX_DOCUMENT_BYTES it stops with 413 and nothing is
 * kept; an empty file is refused. The Content-Type served later comes from the file
 * name's extension (as Wagtail does); downloads are always attachments.
 */
export async function storeDocumentFile(ctx: MediaContext, stream: Readable, rawFileName: string | undefined): Promise<StoredDocumentFile> {
  const fileName = cleanFileName(rawFileName, 'document');
  const contentType = lookup(fileName) || 'application/octet-stream';
  const fileKey = mediaKeys.document();
  const limit = ctx.config.maxDocumentBytes;
  const hash = createHash('sha256');
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > limit) return done(new TooLargeError());
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await Promise.all([pipeline(stream, counter), ctx.storage.put(fileKey, counter, { contentType })]);
  } catch (err) {
    counter.destroy();
    stream.resume();
    await ctx.storage.delete(fileKey).catch(() => {});
    if (err instanceof TooLargeError || (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(limit);
    throw asClientError(err);
  }
  if (size === 0) {
    await ctx.storage.delete(fileKey).catch(() => {});
    throw Errors.emptyFile([], { errors: [{ path: '/file', message: 'is empty (0 bytes)' }] });
  }
  return { fileKey, fileName, contentType, size, hash: hash.digest('hex') };
}

/** Records a stored document file with its title and tags; on any refusal the file is removed. */
export async function createDocument(ctx: MediaContext, uploader: Uploader, file: StoredDocumentFile, fields: UploadFields): Promise<DocumentRow> {
  try {
    const errors: FieldError[] = [];
    const title = titleFrom(fields, file.fileName, 'Untitled document', errors);
    const tags = tagsFrom(fields, errors);
    throwIfInvalid(errors);
    const [row] = await ctx.publicChange((tx) => tx.insert(documents).values({
      title, fileKey: file.fileKey, fileHash: file.hash, fileSize: file.size, fileName: file.fileName, contentType: file.contentType, tags, uploadedBy: uploader.tokenId,
    }).returning());
    return row!;
  } catch (err) {
    await ctx.storage.delete(file.fileKey).catch((e) => ctx.log(e, 'removing the file of a refused document upload failed'));
    throw err;
  }
}

export function tooLarge(limit: number) {
  return Errors.fileTooLarge([formatBytes(limit), 'documents (MAX_DOCUMENT_BYTES)'], { errors: [{ path: '/file', message: `is larger than ${formatBytes(limit)}` }] });
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
