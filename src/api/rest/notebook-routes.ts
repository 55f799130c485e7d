import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { importNotebookPage, type NotebookUpload } from '../../content/notebooks/import-notebook-page.js';
import { pageNotebook } from '../../content/notebooks/page-notebook.js';
import { Errors, isCmsError } from '../../errors.js';
import { attachment } from './content-disposition.js';
import { matchesIfNoneMatch, pageEtag } from './etag.js';
import { sendPageDraft } from './page-response.js';
import { apiOrigin, readVersion, requireActor, requirePermission } from './request-auth.js';
import { PRIVATE_CACHE_CONTROL, PUBLIC_CACHE_CONTROL } from './send-json.js';
import { lastValues } from './wagtail/page-listing-query.js';
import { detailUrl } from './wagtail/page-serializer.js';
import { parsePythonInt } from './wagtail/python-int.js';

const NOTEBOOK_TYPE = 'application/x-ipynb+json';
const BY_OPERATION = { 'x-lectern-validated': 'operation' } as const;
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, { $ref: 'Error#' }]));
const FIELDS = ['parent', 'type', 'title', 'publish', 'message'] as const;
const FIELD_BYTES = 4096;

const importSchema = {
  tags: ['pages'],
  summary: 'Create a page from a Jupyter notebook (.ipynb)',
  description: 'Markdown cells become heading and paragraph blocks, code cells jupyter blocks with their stored outputs, raw cells text blocks; '
    + 'cells exported by GET /api/v2/pages/{id}/notebook are restored exactly. Answers like POST /api/v2/pages/.',
  consumes: ['multipart/form-data'],
  body: {
    type: 'object',
    ...BY_OPERATION,
    properties: {
      file: { type: 'string', format: 'binary', description: 'The notebook (nbformat 4), at most BODY_LIMIT_BYTES.' },
      parent: { type: 'string', description: 'Parent page id; omitted: a top-level page.' },
      type: { type: 'string', description: 'Page type (default lesson).' },
      title: { type: 'string', description: 'Overrides the title (default: the first level-1 heading, else the file name).' },
      publish: { type: 'string', enum: ['true', 'false'], description: 'Publish at once.' },
      message: { type: 'string', description: 'Commit message.' },
    },
    required: ['file'],
  },
  response: { 201: { description: 'The page, as POST /api/v2/pages/ answers, with meta.import_warnings.', type: 'object' }, ...errors(400, 401, 403, 409, 413, 415) },
};

const exportSchema = {
  tags: ['pages'],
  summary: 'A lesson as a Jupyter notebook (nbformat 4.5)',
  params: { type: 'object', ...BY_OPERATION, properties: { id: { type: 'string', description: 'Page id' } }, required: ['id'] },
  querystring: { type: 'object', ...BY_OPERATION, properties: { version: { type: 'string', description: 'live (default) or draft (editors and reviewers).' } } },
  response: {
    200: { description: `The notebook (${NOTEBOOK_TYPE}), as an attachment named after the slug.`, type: 'object' },
    304: { description: 'Not modified', type: 'null' },
    ...errors(400, 401, 403, 404),
  },
};

/** Notebooks in (`POST /api/v2/pages/import/`) and out (`GET /api/v2/pages/{id}/notebook`). */
export async function notebookRoutes(app: FastifyInstance): Promise<void> {
  const { content, config } = app.lectern;
  // Only this plugin parses multipart bodies; the file is read in the handler, after auth.
  await app.register(multipart, {
    limits: { fileSize: config.bodyLimitBytes, files: 1, fields: FIELDS.length, fieldSize: FIELD_BYTES, parts: FIELDS.length + 1 },
  });

  app.post('/api/v2/pages/import/', {
    schema: importSchema,
    // Before the body is read: an anonymous or read-only caller learns only that.
    onRequest: async (req) => { await requirePermission(req, 'write:pages'); },
  }, async (req, reply) => {
    const actor = await requireActor(req);
    const upload = await readUpload(req, config.bodyLimitBytes);
    const { row, warnings } = await importNotebookPage(content, actor, upload);
    reply.header('location', detailUrl(apiOrigin(req), row.id));
    return sendPageDraft(req, reply, row, 201, { import_warnings: warnings });
  });

  app.get('/api/v2/pages/:id/notebook', { schema: exportSchema }, async (req, reply) => {
    const id = parsePythonInt((req.params as { id: string }).id);
    const version = await readVersion(req, lastValues(req.query as Record<string, unknown>).version);
    if (id === null) throw Errors.pageNotFound();
    const nb = await pageNotebook(content, id, version, { origin: apiOrigin(req) });
    const etag = pageEtag(nb.revision, nb.text);
    reply.header('etag', etag)
      .header('cache-control', version === 'live' ? PUBLIC_CACHE_CONTROL : PRIVATE_CACHE_CONTROL)
      .header('content-disposition', attachment(`${nb.slug}.ipynb`, `page-${id}.ipynb`));
    if (matchesIfNoneMatch(req.headers['if-none-match'], etag)) return reply.code(304).send();
    return reply.type(`${NOTEBOOK_TYPE}; charset=utf-8`).send(nb.text);
  });
}

/** The multipart form: one notebook file and the optional fields. */
async function readUpload(req: FastifyRequest, limit: number): Promise<NotebookUpload> {
  if (!req.isMultipart()) {
    throw Errors.unsupportedMediaType([`${req.headers['content-type'] ?? 'none'} (send multipart/form-data with the notebook in a "file" field)`]);
  }
  const fields = new Map<string, string>();
  let file: { name: string; data: Buffer } | null = null;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        file = { name: part.filename, data: await part.toBuffer() };
        continue;
      }
      if (!(FIELDS as readonly string[]).includes(part.fieldname)) {
        throw Errors.badRequest([`unknown form field "${part.fieldname}"`], { errors: [{ path: `/${part.fieldname}`, message: `is not a field of a notebook import (fields: file, ${FIELDS.join(', ')})` }] });
      }
      if (part.valueTruncated) throw Errors.badRequest([`the form field "${part.fieldname}" is too long`], { errors: [{ path: `/${part.fieldname}`, message: `is longer than ${FIELD_BYTES} bytes` }] });
      fields.set(part.fieldname, String(part.value));
    }
  } catch (err) {
    throw uploadError(err, limit);
  }
  if (!file) throw Errors.badRequest(['the request has no notebook file'], { errors: [{ path: '/file', message: 'is required: a .ipynb file in a multipart "file" field' }] });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file.data);
  } catch {
    throw Errors.notNotebook(['the file is not UTF-8 text'], { errors: [{ path: '', message: 'the file is not UTF-8 text' }] });
  }
  const upload: NotebookUpload = { text, filename: file.name || undefined };
  const parent = fields.get('parent');
  if (parent !== undefined && parent !== '' && parent !== 'null') {
    if (!/^[1-9][0-9]{0,8}$/.test(parent)) throw Errors.validation([`/parent must be a page id`], { errors: [{ path: '/parent', message: 'must be a page id' }] });
    upload.parent = Number(parent);
  }
  const publish = fields.get('publish');
  if (publish !== undefined) {
    if (!/^(true|false|1|0|on|off|yes|no|)$/i.test(publish)) throw Errors.validation(['/publish must be true or false'], { errors: [{ path: '/publish', message: 'must be true or false' }] });
    upload.publish = /^(true|1|on|yes)$/i.test(publish);
  }
  for (const name of ['type', 'title', 'message'] as const) {
    const v = fields.get(name)?.trim();
    if (v) upload[name] = v;
  }
  return upload;
}

/** Multipart limits as the API's errors. */
function uploadError(err: unknown, limit: number): unknown {
  if (isCmsError(err)) return err;
  switch ((err as { code?: string }).code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return Errors.payloadTooLarge([], { errors: [{ path: '/file', message: `the notebook is larger than ${limit} bytes (BODY_LIMIT_BYTES)` }] });
    case 'FST_FILES_LIMIT':
      return Errors.badRequest(['send one notebook per request'], { errors: [{ path: '/file', message: 'only one file may be sent' }] });
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return Errors.badRequest(['the form has too many fields'], { errors: [{ path: '', message: `fields: file, ${FIELDS.join(', ')}` }] });
  }
  return err;
}
