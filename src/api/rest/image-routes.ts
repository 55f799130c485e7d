import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { can } from '../../auth/roles.js';
import { Errors } from '../../errors.js';
import { deleteImage } from '../../media/images/delete-image.js';
import { filterSpecOf } from '../../media/images/image-renditions.js';
import { getImage, IMAGE_FIELDS, listImages, type ImageRow } from '../../media/images/image-store.js';
import { uploadImage } from '../../media/images/upload-image.js';
import { mediaUrl, readAll } from '../../media/media-files.js';
import { apiOrigin, principalOf, requirePermission } from './request-auth.js';
import { libraryReadRoutes } from './library-read-routes.js';
import { readUploadForm } from './multipart-form.js';
import { librarySelection, serializeLibraryItem, type Library } from './wagtail/library-listing.js';
import { parsePythonInt } from './wagtail/python-int.js';
import type { FieldSelection } from './wagtail/select-fields.js';

export const IMAGE_LIBRARY: Library = {
  type: 'wagtailimages.Image',
  path: '/api/v2/images/',
  bodyFields: ['width', 'height'],
  filters: IMAGE_FIELDS,
};

const UPLOAD_FIELDS = ['title', 'tags', 'focal_point_x', 'focal_point_y', 'focal_point_width', 'focal_point_height'] as const;
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, { $ref: 'Error#' }]));
const BY_OPERATION = { 'x-lectern-validated': 'operation' } as const;

/**
 * The image library, Wagtail-shaped: listing, detail and find for anyone (images are
 * public, as in Wagtail), uploads and deletes for editors, renditions by filter spec.
 */
export async function imageRoutes(app: FastifyInstance): Promise<void> {
  const { media, renditions, config } = app.lectern;
  await app.register(multipart);

  const itemJson = (req: FastifyRequest, row: ImageRow, sel: FieldSelection) =>
    serializeLibraryItem(IMAGE_LIBRARY, row, sel, { apiOrigin: apiOrigin(req), downloadUrl: mediaUrl(media.storage, row.fileKey) });
  const json = (body: unknown) => JSON.stringify(body);

  libraryReadRoutes(app, {
    library: IMAGE_LIBRARY,
    noun: 'image',
    get: (id) => getImage(media.db, id),
    list: (q) => listImages(media.db, q),
    downloadUrl: (_req, row) => mediaUrl(media.storage, row.fileKey),
    notFound: () => Errors.imageNotFound(),
    summaries: {
      listing: 'Images (Wagtail API v2): filters id, title, width, height, tags; order; search; fields; limit/offset',
      detail: 'An image: title, width, height, tags, download_url',
    },
  });

  app.post('/api/v2/images/', {
    schema: {
      tags: ['media'],
      summary: 'Upload an image (editors): PNG, JPEG, WebP, GIF or AVIF, judged by its bytes; the same bytes again answer 200 with the image already there',
      consumes: ['multipart/form-data'],
      body: {
        type: 'object', ...BY_OPERATION,
        properties: {
          file: { type: 'string', format: 'binary', description: 'The image, at most MAX_IMAGE_BYTES and MAX_IMAGE_PIXELS. SVG is refused.' },
          title: { type: 'string', description: 'Default: the file name without its extension.' },
          tags: { type: 'string', description: 'Comma-separated.' },
          focal_point_x: { type: 'string', description: 'Centre of the subject, in pixels.' },
          focal_point_y: { type: 'string' },
          focal_point_width: { type: 'string' },
          focal_point_height: { type: 'string' },
        },
        required: ['file'],
      },
      response: { ...errors(400, 401, 403, 413, 415) },
    },
    onRequest: async (req) => { await requirePermission(req, 'write:media'); },
  }, async (req, reply) => {
    const who = await requirePermission(req, 'write:media');
    const form = await readUploadForm(req, { fields: UPLOAD_FIELDS, fileBytes: config.media.maxImageBytes, what: 'an image' },
      async (part) => ({ bytes: await readAll(part.file), fileName: part.filename }));
    const { image, duplicate } = await uploadImage(media, { tokenId: who.tokenId }, { ...form.fields, ...form.file });
    const body = itemJson(req, image, librarySelection(IMAGE_LIBRARY, undefined, true));
    if (duplicate) (body.meta as Record<string, unknown>).duplicate = true;
    reply.header('location', `${apiOrigin(req)}${IMAGE_LIBRARY.path}${image.id}/`);
    return reply.code(duplicate ? 200 : 201).header('cache-control', 'private, no-store').type('application/json; charset=utf-8').send(json(body));
  });

  app.delete('/api/v2/images/:id/', {
    schema: { tags: ['media'], summary: 'Delete an image and its renditions (pages using it then show it as missing)', response: { 204: { type: 'null' }, ...errors(401, 403, 404) } },
  }, async (req, reply) => {
    await requirePermission(req, 'write:media');
    const id = parsePythonInt((req.params as { id: string }).id);
    if (id === null) throw Errors.imageNotFound();
    await deleteImage(media, id);
    return reply.code(204).send();
  });

  app.get('/api/v2/images/:id/renditions/:spec', {
    schema: {
      tags: ['media'],
      summary: 'A rendition by Wagtail filter spec (fill-800x450|format-webp, URL-encoded): made on first request, then 302 to its file, which never changes',
      response: { 302: { description: 'Location: the rendition\'s file', type: 'null' }, ...errors(400, 404) },
    },
  }, async (req, reply) => {
    const { id: rawId, spec: rawSpec } = req.params as { id: string; spec: string };
    const spec = filterSpecOf(rawSpec, '/spec');
    const id = parsePythonInt(rawId);
    if (id === null) throw Errors.imageNotFound();
    const principal = await principalOf(req);
    const rendition = await renditions.get(id, spec, { privileged: principal !== null && can(principal.role, 'write:media') });
    const url = renditions.url(rendition);
    return reply.header('cache-control', 'public, max-age=300')
      .header('x-rendition-width', String(rendition.width)).header('x-rendition-height', String(rendition.height))
      .redirect(url.startsWith('/') ? `${apiOrigin(req)}${url}` : url, 302);
  });

}
