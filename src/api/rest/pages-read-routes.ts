import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findPageByUrlPath, getVisiblePage, listPages } from '../../content/queries/list-pages.js';
import type { Version } from '../../content/queries/page-fields.js';
import { Errors } from '../../errors.js';
import { listingEtag, pageEtag } from './etag.js';
import type { CachedResponse } from './read-cache.js';
import { apiOrigin, principalOf, readVersion, siteOrigin } from './request-auth.js';
import { cacheKey, isCacheable, PRIVATE_CACHE_CONTROL, PUBLIC_CACHE_CONTROL, sendPrepared } from './send-json.js';
import { lastValues, parseListingQuery, parseTypes } from './wagtail/page-listing-query.js';
import { detailUrl, pageCatalogue, serializePage } from './wagtail/page-serializer.js';
import { parsePythonInt } from './wagtail/python-int.js';
import { FieldsError, selectFields } from './wagtail/select-fields.js';
import { pageDetailSchema, pageFindSchema, pageListingSchema } from './openapi-schemas.js';

/**
 * The Wagtail API v2 read endpoints. Anonymous reads see live content and are served
 * from the read cache when possible; `?version=draft` (editors, reviewers) bypasses it.
 */
export async function pagesReadRoutes(app: FastifyInstance): Promise<void> {
  const { content, cache, version: contentVersion, config } = app.lectern;
  const db = content.database.db;

  /** Runs `compute` for a read, through the cache for anonymous live reads. */
  async function cachedRead(req: FastifyRequest, compute: (version: Version) => Promise<CachedResponse>): Promise<CachedResponse> {
    const cacheable = isCacheable(req) && cache.enabled;
    const key = cacheable ? cacheKey(req) : '';
    if (cacheable) {
      const hit = cache.get(key);
      if (hit) return hit;
    }
    const generation = contentVersion.generation;
    // A token that is sent is checked, even for what anyone may read: a revoked one is a 401.
    if (!cacheable) await principalOf(req);
    const q = lastValues(req.query as Record<string, unknown>);
    const version = await readVersion(req, q.version);
    const res = await compute(version);
    if (cacheable && version === 'live') cache.set(key, res, generation);
    return res;
  }

  const cacheControl = (version: Version) => (version === 'live' ? PUBLIC_CACHE_CONTROL : PRIVATE_CACHE_CONTROL);

  app.get('/api/v2/pages/', { schema: pageListingSchema }, async (req, reply) => {
    const res = await cachedRead(req, async (version) => {
      const q = lastValues(req.query as Record<string, unknown>);
      const parsed = await parseListingQuery(q, {
        types: content.types, limitMax: config.apiLimitMax, version,
        findPage: (id) => getVisiblePage(db, id, version),
      });
      const list = await listPages(db, parsed.query);
      const env = { version, apiOrigin: apiOrigin(req), siteOrigin: siteOrigin(req), editorMeta: version === 'draft' };
      const body = JSON.stringify({ meta: { total_count: list.total }, items: list.rows.map((row) => serializePage(row, parsed.selection, env)) });
      return { status: 200, body, etag: listingEtag(body), headers: { 'cache-control': cacheControl(version) } };
    });
    return sendPrepared(req, reply, res);
  });

  app.get('/api/v2/pages/find/', { schema: pageFindSchema }, async (req, reply) => {
    const res = await cachedRead(req, async (version) => {
      const q = lastValues(req.query as Record<string, unknown>);
      const types = parseTypes(q.type, content.types);
      let page;
      if (q.html_path !== undefined) {
        const parts = q.html_path.split('/').filter(Boolean);
        if (parts.length) page = await findPageByUrlPath(db, `/${parts.join('/')}/`, version);
      } else if (q.id !== undefined) {
        const id = parsePythonInt(q.id);
        if (id !== null) page = await getVisiblePage(db, id, version);
      }
      if (!page || (types && !types.some((t) => t.name === page.type))) throw Errors.notFound();
      const location = detailUrl(apiOrigin(req), page.id) + (version === 'draft' ? '?version=draft' : '');
      return { status: 302, body: '', etag: `"${page.id}"`, headers: { location, 'cache-control': cacheControl(version) } };
    });
    return sendPrepared(req, reply, res);
  });

  app.get('/api/v2/pages/:id/', { schema: pageDetailSchema }, async (req, reply) => {
    const res = await cachedRead(req, async (version) => {
      const id = parsePythonInt((req.params as { id: string }).id);
      const row = id === null ? undefined : await getVisiblePage(db, id, version);
      const q = lastValues(req.query as Record<string, unknown>);
      const types = parseTypes(q.type, content.types);
      if (!row || (types && !types.some((t) => t.name === row.type))) throw Errors.pageNotFound();
      let selection;
      try {
        selection = selectFields(q.fields, pageCatalogue(content.types.get(row.type) ?? null, true));
      } catch (err) {
        if (err instanceof FieldsError) throw Errors.badQuery([err.message]);
        throw err;
      }
      const parent = selection.fields.has('parent') && row.parentId !== null ? (await getVisiblePage(db, row.parentId, version)) ?? null : null;
      const body = JSON.stringify(serializePage(row, selection, {
        version, apiOrigin: apiOrigin(req), siteOrigin: siteOrigin(req), parent, editorMeta: version === 'draft',
      }));
      const revision = (version === 'live' ? row.liveRevisionId : row.latestRevisionId)!;
      return { status: 200, body, etag: pageEtag(revision, body), headers: { 'cache-control': cacheControl(version) } };
    });
    return sendPrepared(req, reply, res);
  });
}
