import { eq } from 'drizzle-orm';
import { documents } from '../../db/schema.js';
import { Errors } from '../../errors.js';
import type { MediaContext } from '../media-context.js';

/** Deletes a document and its file; pages that link it say it is missing. */
export async function deleteDocument(ctx: MediaContext, id: number): Promise<void> {
  const key = await ctx.publicChange(async (tx) => {
    const [row] = await tx.delete(documents).where(eq(documents.id, id)).returning({ fileKey: documents.fileKey });
    if (!row) throw Errors.documentNotFound();
    return row.fileKey;
  });
  await ctx.storage.delete(key).catch((err) => ctx.log(err, `removing ${key} of a deleted document failed`));
}
