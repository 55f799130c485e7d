import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listBlockHistory } from '../../content/queries/block-history.js';
import { comparePair, loadRevisionPair, patchOfPair } from '../../content/queries/compare-revisions.js';
import { getRevision, listRevisions } from '../../content/queries/list-revisions.js';
import pageCompareSchema from '../../../schemas/api/page-compare.json' with { type: 'json' };
import { getVisiblePage } from '../../content/queries/list-pages.js';
import { Errors } from '../../errors.js';
import { pageEtag } from './etag.js';
import { revisionJson } from './revision-json.js';
import { apiOrigin, requirePermission, siteOrigin } from './request-auth.js';
import { PRIVATE_CACHE_CONTROL } from './send-json.js';
import { lastValues, parsePagination } from './wagtail/page-listing-query.js';
import { formatDate, pageCatalogue, serializePage } from './wagtail/page-serializer.js';
import { parsePythonInt } from './wagtail/python-int.js';

const param = (req: FastifyRequest, name: string) => (req.params as Record<string, string>)[name]!;

/** Page history for editors and reviewers, served from the revision index. */
export async function revisionsRoutes(app: FastifyInstance): Promise<void> {
  const { content, repo, config } = app.lectern;
  const db = content.database.db;
  app.addHook('onRequest', async (req) => { await requirePermission(req, 'read:drafts'); });
  const query = { type: 'object', 'x-lectern-validated': 'operation', properties: { limit: { type: 'string' }, offset: { type: 'string' } } };

  /** The page of the route's `:id`, drafts included; 404 like the detail view when there is none. */
  async function pageOf(req: FastifyRequest) {
    const id = parsePythonInt(param(req, 'id'));
    const page = id === null ? undefined : await getVisiblePage(db, id, 'draft');
    if (!page) throw Errors.pageNotFound();
    return page;
  }

  app.get('/api/v2/pages/:id/revisions/', { schema: { tags: ['history'], summary: 'Revisions of a page, newest first', querystring: query } }, async (req, reply) => {
    const page = await pageOf(req);
    const { limit, offset } = parsePagination(lastValues(req.query as Record<string, unknown>), config.apiLimitMax);
    const list = await listRevisions(db, page.id, limit, offset);
    const body = JSON.stringify({ meta: { total_count: list.total }, items: list.rows.map((r) => revisionJson(r, page.liveRevisionId)) });
    return reply.header('cache-control', PRIVATE_CACHE_CONTROL).type('application/json; charset=utf-8').send(body);
  });

  app.get('/api/v2/pages/:id/blocks/:blockId/history/', {
    schema: { tags: ['history'], summary: 'The revisions that added, changed, moved or removed one block, newest first', querystring: query },
  }, async (req, reply) => {
    const page = await pageOf(req);
    const blockId = param(req, 'blockId');
    const { limit, offset } = parsePagination(lastValues(req.query as Record<string, unknown>), config.apiLimitMax);
    const history = await listBlockHistory(db, page.id, blockId, limit, offset);
    if (history.total === 0) throw Errors.blockNotFound([page.id, blockId]);
    const body = JSON.stringify({
      meta: { total_count: history.total },
      items: history.items.map((h) => ({ ...h, created_at: formatDate(h.created_at) })),
    });
    return reply.header('cache-control', PRIVATE_CACHE_CONTROL).type('application/json; charset=utf-8').send(body);
  });

  app.get('/api/v2/pages/:id/revisions/:a/compare/:b/', {
    schema: {
      tags: ['history'],
      summary: 'What changed between two revisions, block by block (either order: always older to newer)',
      querystring: { type: 'object', properties: { format: { type: 'string', enum: ['json', 'patch'], description: 'patch: the page file\'s unified diff, as git diff prints it (text/plain).' } } },
      response: { 200: { $ref: `${pageCompareSchema.$id}#` } },
    },
  }, async (req, reply) => {
    const page = await pageOf(req);
    const [a, b] = [parsePythonInt(param(req, 'a')), parsePythonInt(param(req, 'b'))];
    if (a === null) throw Errors.revisionNotFound([param(req, 'a'), page.id]);
    if (b === null) throw Errors.revisionNotFound([param(req, 'b'), page.id]);
    const pair = await loadRevisionPair(db, repo, page, a, b);
    // Revisions never change: a compare can be kept as long as the client likes.
    reply.header('cache-control', 'private, max-age=86400');
    if ((req.query as { format?: string }).format === 'patch') {
      return reply.type('text/plain; charset=utf-8').send(patchOfPair(page, pair));
    }
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(comparePair(content.blocks, content.types, page, pair)));
  });

  app.get('/api/v2/pages/:id/revisions/:rid/', { schema: { tags: ['history'], summary: 'A page as it was at a revision' } }, async (req, reply) => {
    const page = await pageOf(req);
    const rid = parsePythonInt(param(req, 'rid'));
    const found = rid === null ? undefined : await getRevision(db, repo, page.id, rid);
    if (!found || !found.doc) throw Errors.revisionNotFound([param(req, 'rid'), page.id]);
    const catalogue = pageCatalogue(content.types.get(page.type) ?? null, true);
    const shown = { ...page, draft: found.doc, latestRevisionId: found.row.id };
    const item = serializePage(shown, { fields: new Set(catalogue.all), order: catalogue.all, nested: new Map() }, {
      version: 'draft', apiOrigin: apiOrigin(req), siteOrigin: siteOrigin(req), editorMeta: true,
    });
    const meta = item.meta as Record<string, unknown>;
    meta.revision_info = revisionJson(found.row, page.liveRevisionId);
    delete meta.parent;
    const body = JSON.stringify(item);
    return reply.header('etag', pageEtag(found.row.id, body)).header('cache-control', PRIVATE_CACHE_CONTROL)
      .type('application/json; charset=utf-8').send(body);
  });
}
