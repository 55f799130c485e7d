import multipart from '@fastify/multipart';
import { extname } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../../errors.js';
import { deleteDocument } from '../../media/documents/delete-document.js';
import { DOCUMENT_FIELDS, getDocument, listDocuments, type DocumentRow } from '../../media/documents/document-store.js';
import { createDocument, storeDocumentFile, type StoredDocumentFile } from '../../media/documents/upload-document.js';
import { attachment } from './content-disposition.js';
import { libraryReadRoutes } from './library-read-routes.js';
import { readUploadForm } from './multipart-form.js';
import { apiOrigin, requirePermission } from './request-auth.js';
import { sendStoredFile } from './send-file.js';
import { librarySelection, serializeLibraryItem, type Library } from './wagtail/library-listing.js';
import { parsePythonInt } from './wagtail/python-int.js';
import type { FieldSelection } from './wagtail/select-fields.js';

export const DOCUMENT_LIBRARY: Library = {
  type: 'wagtaildocs.Document',
  path: '/api/v2/documents/',
  bodyFields: [],
  filters: DOCUMENT_FIELDS,
};

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, { $ref: 'Error#' }]));
const BY_OPERATION = { 'x-lectern-validated': 'operation' } as const;

export const documentDownloadUrl = (origin: string, row: DocumentRow) => `${origin}/documents/${row.id}/${encodeURIComponent(row.fileName)}`;

/**
 * The document library, Wagtail-shaped (listing, detail, find), uploads and deletes for
 * editors, and downloads at `download_url`: the stored Content-Type, an attachment named
 * as uploaded (RFC 5987 for names that are not ASCII), byte ranges.
 */
export async function documentRoutes(app: FastifyInstance): Promise<void> {
  const { media, config } = app.lectern;
  await app.register(multipart);

  const itemJson = (req: FastifyRequest, row: DocumentRow, sel: FieldSelection) =>
    serializeLibraryItem(DOCUMENT_LIBRARY, row, sel, { apiOrigin: apiOrigin(req), downloadUrl: documentDownloadUrl(apiOrigin(req), row) });

  libraryReadRoutes(app, {
    library: DOCUMENT_LIBRARY,
    noun: 'document',
    get: (id) => getDocument(media.db, id),
    list: (q) => listDocuments(media.db, q),
    downloadUrl: (req, row) => documentDownloadUrl(apiOrigin(req), row),
    notFound: () => Errors.documentNotFound(),
    summaries: {
      listing: 'Documents (Wagtail API v2): filters id, title, tags; order; search; fields; limit/offset',
      detail: 'A document: title, tags, download_url',
    },
  });

  app.post('/api/v2/documents/', {
    schema: {
      tags: ['media'],
      summary: 'Upload a document (editors): any file, at most MAX_DOCUMENT_BYTES',
      consumes: ['multipart/form-data'],
      body: {
        type: 'object', ...BY_OPERATION,
        properties: {
          file: { type: 'string', format: 'binary' },
          title: { type: 'string', description: 'Default: the file name without its extension.' },
          tags: { type: 'string', description: 'Comma-separated.' },
        },
        required: ['file'],
      },
      response: { ...errors(400, 401, 403, 413, 415) },
    },
    onRequest: async (req) => { await requirePermission(req, 'write:media'); },
  }, async (req, reply) => {
    const who = await requirePermission(req, 'write:media');
    let stored: StoredDocumentFile | null = null;
    let form;
    try {
      form = await readUploadForm(req, { fields: ['title', 'tags'], fileBytes: config.media.maxDocumentBytes, what: 'a document' },
        async (part) => (stored = await storeDocumentFile(media, part.file, part.filename)));
    } catch (err) {
      // A form refused after its file was stored (an unknown field after the file) keeps nothing.
      const orphan = stored as StoredDocumentFile | null;
      if (orphan) await media.storage.delete(orphan.fileKey).catch((e) => media.log(e, 'removing the file of a refused document upload failed'));
      throw err;
    }
    const row = await createDocument(media, { tokenId: who.tokenId }, form.file, form.fields);
    reply.header('location', `${apiOrigin(req)}${DOCUMENT_LIBRARY.path}${row.id}/`);
    const body = itemJson(req, row, librarySelection(DOCUMENT_LIBRARY, undefined, true));
    return reply.code(201).header('cache-control', 'private, no-store').type('application/json; charset=utf-8').send(JSON.stringify(body));
  });

  app.delete('/api/v2/documents/:id/', {
    schema: { tags: ['media'], summary: 'Delete a document and its file', response: { 204: { type: 'null' }, ...errors(401, 403, 404) } },
  }, async (req, reply) => {
    await requirePermission(req, 'write:media');
    const id = parsePythonInt((req.params as { id: string }).id);
    if (id === null) throw Errors.documentNotFound();
    await deleteDocument(media, id);
    return reply.code(204).send();
  });

  app.get('/documents/:id/:name', {
    schema: { tags: ['media'], summary: 'Download a document (Range requests answer 206)' },
  }, async (req, reply) => {
    const { id, name } = req.params as { id: string; name: string };
    const row = await documentOf(id);
    if (name !== row.fileName) throw Errors.documentNotFound();
    // Whatever was uploaded (HTML, SVG…) must not run as a page of this origin.
    reply.header('content-security-policy', "sandbox; default-src 'none'");
    return sendStoredFile(req, reply, media.storage, {
      key: row.fileKey,
      contentType: row.contentType,
      size: row.fileSize,
      etag: `"${row.fileHash.slice(0, 32)}"`,
      cacheControl: 'public, max-age=3600',
      disposition: attachment(row.fileName, `document-${row.id}${extname(row.fileName)}`),
    });
  });

  async function documentOf(raw: string): Promise<DocumentRow> {
    const id = parsePythonInt(raw);
    const row = id === null ? undefined : await getDocument(media.db, id);
    if (!row) throw Errors.documentNotFound();
    return row;
  }
}
