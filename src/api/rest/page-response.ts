import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PageRow } from '../../content/page-store.js';
import { getVisiblePage } from '../../content/queries/list-pages.js';
import { pageEtag } from './etag.js';
import { apiOrigin, siteOrigin } from './request-auth.js';
import { PRIVATE_CACHE_CONTROL } from './send-json.js';
import { pageCatalogue, serializePage } from './wagtail/page-serializer.js';

/**
 * Sends a page as write responses return it: the detail shape of its latest draft,
 * with meta.revision, meta.live and meta.has_unpublished_changes, and its ETag.
 */
export async function sendPageDraft(req: FastifyRequest, reply: FastifyReply, row: PageRow, status = 200, extraMeta: Record<string, unknown> = {}) {
  const { content } = req.server.lectern;
  const catalogue = pageCatalogue(content.types.get(row.type) ?? null, true);
  const parent = row.parentId === null ? null : (await getVisiblePage(content.database.db, row.parentId, 'draft')) ?? null;
  const page = serializePage(row, { fields: new Set(catalogue.all), order: catalogue.all, nested: new Map() }, {
    version: 'draft', apiOrigin: apiOrigin(req), siteOrigin: siteOrigin(req), parent, editorMeta: true,
  });
  Object.assign(page.meta as Record<string, unknown>, extraMeta);
  const body = JSON.stringify(page);
  return reply.code(status)
    .header('etag', pageEtag(row.latestRevisionId, body))
    .header('cache-control', PRIVATE_CACHE_CONTROL)
    .type('application/json; charset=utf-8')
    .send(body);
}
