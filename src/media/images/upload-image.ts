import { eq } from 'drizzle-orm';
import { images } from '../../db/schema.js';
import { Errors, type FieldError } from '../../errors.js';
import { asClientError, mediaKeys, sha256 } from '../media-files.js';
import type { MediaContext, Uploader } from '../media-context.js';
import { tagsFrom, throwIfInvalid, titleFrom, type UploadFields } from '../upload-fields.js';
import type { ImageRow } from './image-store.js';
import { ImageRejectedError, probeImage } from './probe-image.js';

export interface ImageUpload extends UploadFields {
  bytes: Buffer;
  fileName?: string;
  /** Wagtail's focal point fields: the centre and size of the subject, in pixels. */
  focal_point_x?: string;
  focal_point_y?: string;
  focal_point_width?: string;
  focal_point_height?: string;
}

export interface UploadedImage {
  image: ImageRow;
  /** The same bytes were uploaded before: this is that image, unchanged. */
  duplicate: boolean;
}

/**
 * Adds an image to the library. The bytes decide what it is (PNG, JPEG, WebP, GIF,
 * AVIF; SVG and everything else refused) and are fully decoded once, so a truncated or
 * corrupt file, or one with more pixels than MAX_IMAGE_PIXELS, is refused before
 * anything is stored. The same bytes uploaded again give back the first image.
 */
export async function uploadImage(ctx: MediaContext, uploader: Uploader, upload: ImageUpload): Promise<UploadedImage> {
  if (upload.bytes.length === 0) throw Errors.emptyFile([], { errors: [{ path: '/file', message: 'is empty (0 bytes)' }] });
  let probed;
  try {
    probed = await probeImage(upload.bytes, { maxPixels: ctx.config.maxImagePixels });
  } catch (err) {
    if (err instanceof ImageRejectedError) {
      throw Errors.imageRejected([err.message], { errors: [{ path: '/file', message: err.message }], extra: { reason: err.reason } });
    }
    throw err;
  }
  const errors: FieldError[] = [];
  const title = titleFrom(upload, upload.fileName, 'Untitled image', errors);
  const tags = tagsFrom(upload, errors);
  const focal = focalPointFrom(upload, probed.width, probed.height, errors);
  throwIfInvalid(errors);

  const hash = sha256(upload.bytes);
  const [existing] = await ctx.db.select().from(images).where(eq(images.fileHash, hash)).limit(1);
  if (existing) return { image: existing, duplicate: true };

  const fileKey = mediaKeys.originalImage(hash, probed.extension);
  // The file first, then the row: a row never points at a missing file. Same bytes, same
  // key, so two concurrent uploads of one file write the same object.
  await ctx.storage.put(fileKey, upload.bytes, { contentType: probed.mime, size: upload.bytes.length }).catch((err) => { throw asClientError(err); });
  let inserted: ImageRow | undefined;
  try {
    // A new image is something public readers can see (image listings): caches drop.
    [inserted] = await ctx.publicChange((tx) => tx.insert(images).values({
      title, fileKey, fileHash: hash, fileSize: upload.bytes.length, format: probed.format, width: probed.width, height: probed.height,
      focalPointX: focal?.x ?? null, focalPointY: focal?.y ?? null, focalPointWidth: focal?.width ?? null, focalPointHeight: focal?.height ?? null,
      tags, uploadedBy: uploader.tokenId,
    }).onConflictDoNothing({ target: images.fileHash }).returning());
  } catch (err) {
    await ctx.storage.delete(fileKey).catch((e) => ctx.log(e, 'removing the file of a failed image upload failed'));
    throw err;
  }
  if (inserted) return { image: inserted, duplicate: false };
  // Another upload of the same bytes won the race: its row stands, and so does the file.
  const [winner] = await ctx.db.select().from(images).where(eq(images.fileHash, hash)).limit(1);
  if (!winner) throw new Error(`the image with sha256 ${hash} was deleted while the same bytes were uploaded`);
  return { image: winner, duplicate: true };
}

function focalPointFrom(upload: ImageUpload, width: number, height: number, errors: FieldError[]) {
  const names = ['focal_point_x', 'focal_point_y', 'focal_point_width', 'focal_point_height'] as const;
  const given = names.filter((n) => upload[n] !== undefined && upload[n] !== '');
  if (!given.length) return null;
  const values: Record<string, number> = {};
  for (const n of names) {
    const raw = upload[n];
    if (raw === undefined || raw === '') {
      if (n === 'focal_point_x' || n === 'focal_point_y') errors.push({ path: `/${n}`, message: 'is required with the other focal point fields' });
      continue;
    }
    if (!/^\d{1,6}$/.test(raw)) {
      errors.push({ path: `/${n}`, message: `must be a whole number of pixels, got "${raw.slice(0, 20)}"` });
      continue;
    }
    values[n] = Number(raw);
  }
  const x = values.focal_point_x;
  const y = values.focal_point_y;
  const w = values.focal_point_width ?? 1;
  const h = values.focal_point_height ?? 1;
  if (x !== undefined && x >= width) errors.push({ path: '/focal_point_x', message: `must be inside the image (0 to ${width - 1})` });
  if (y !== undefined && y >= height) errors.push({ path: '/focal_point_y', message: `must be inside the image (0 to ${height - 1})` });
  if (w < 1 || w > width) errors.push({ path: '/focal_point_width', message: `must be 1 to ${width}` });
  if (h < 1 || h > height) errors.push({ path: '/focal_point_height', message: `must be 1 to ${height}` });
  if (x === undefined || y === undefined) return null;
  return { x, y, width: w, height: h };
}
