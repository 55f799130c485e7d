import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { Errors } from '../../errors.js';
import { asClientError, PUBLIC_MEDIA_PREFIXES } from '../../media/media-files.js';
import { InvalidStorageKeyError } from '../../media/storage/storage.js';
import { sendStoredFile } from './send-file.js';

/** A year: the bytes under a media key never change (keys come from content hashes). */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Image originals and renditions at `/media/<key>`, when the storage has no public URL
 * of its own: long-lived cache headers and an ETag, byte ranges. Documents are not
 * served here; they go through /documents/{id}/{name} as attachments.
 */
export async function mediaFileRoutes(app: FastifyInstance): Promise<void> {
  const { media } = app.lectern;
  // A key's bytes never change, so what stat said about it stays true (until the file is
  // deleted, when the read itself answers 404): most requests skip the stat.
  const known = new Map<string, { size: number; contentType: string; etag: string }>();
  const KNOWN_MAX = 10_000;

  app.get('/media/*', {
    schema: { tags: ['media'], summary: 'An image original or rendition file' },
  }, async (req, reply) => {
    const key = (req.params as { '*': string })['*'];
    if (!PUBLIC_MEDIA_PREFIXES.some((p) => key.startsWith(p))) throw Errors.notFound();
    let file = known.get(key);
    if (!file) {
      let info;
      try {
        info = await media.storage.stat(key);
      } catch (err) {
        if (err instanceof InvalidStorageKeyError) throw Errors.notFound();
        throw asClientError(err);
      }
      if (!info) throw Errors.notFound();
      file = { size: info.size, contentType: info.contentType ?? 'application/octet-stream', etag: `"${createHash('sha1').update(key).digest('base64url')}"` };
      if (known.size >= KNOWN_MAX) known.delete(known.keys().next().value!);
      known.set(key, file);
    }
    try {
      return await sendStoredFile(req, reply, media.storage, { key, ...file, cacheControl: IMMUTABLE });
    } catch (err) {
      known.delete(key);
      throw err;
    }
  });
}
