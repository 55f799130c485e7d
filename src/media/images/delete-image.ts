import { eq } from 'drizzle-orm';
import { imageRenditions, images } from '../../db/schema.js';
import { Errors } from '../../errors.js';
import type { MediaContext } from '../media-context.js';

/**
 * Deletes an image, its renditions and their files. Pages that show it keep their
 * block (their history is untouched); their API output says the image is missing, and
 * every process's public read cache drops what it held.
 */
export async function deleteImage(ctx: MediaContext, id: number): Promise<void> {
  const keys = await ctx.publicChange(async (tx) => {
    const renditions = await tx.select({ fileKey: imageRenditions.fileKey }).from(imageRenditions).where(eq(imageRenditions.imageId, id));
    const [row] = await tx.delete(images).where(eq(images.id, id)).returning({ fileKey: images.fileKey });
    if (!row) throw Errors.imageNotFound();
    return [row.fileKey, ...renditions.map((r) => r.fileKey)];
  });
  // After the rows are gone: a failure here leaves files nothing points to, never a row
  // pointing to no file.
  for (const key of keys) await ctx.storage.delete(key).catch((err) => ctx.log(err, `removing ${key} of a deleted image failed`));
}
