import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findPageByUrlPath, getVisiblePage, listPages } from '../../content/queries/list-pages.js';
import type { Version } from '../../content/queries/page-fields.js';
import { Errors } from '../../errors.js';
import type { FilterSpec } from '../../media/images/filter-spec.js';
import { filterSpecOf } from '../../media/images/image-renditions.js';
import { describePageMedia } from '../../media/page-media.js';
import { listingEtag, pageEtag } from './etag.js';
import type { CachedResponse } from './read-cache.js';
import { apiOrigin, principalOf, readVersion, siteOrigin } from './request-auth.js';
import { cacheKey, isCacheable, PRIVATE_CACHE_CONTROL, PUBLIC_CACHE_CONTROL, sendPrepared } from './send-json.js';
import { lastValues, parseListingQuery, parseTypes } from './wagtail/page-listing-query.js';
import { detailUrl, pageCatalogue, serializePage } from './wagtail/page-serializer.js';
import { parsePythonInt } from './wagtail/python-int.js';
import { FieldsError, selectFields } from './wagtail/select-fields.js';
import { pageDetailSchema, pageFindSchema, pageListingSchema } from './openapi-schemas.js';

/** `renditions=fill-800x450|format-webp,width-400`: the renditions image blocks should carry. */
function renditionSpecs(raw: string | undefined): FilterSpec[] {
  if (raw === undefined || raw.trim() === '') return [];
  const specs = raw.split(',').map((s) => filterSpecOf(s.trim(), '/renditions'));
  if (specs.length > 10) throw Errors.badQuery(['renditions: at most 10 filter specs']);
  return specs;
}

/**
 * The Wagtail API v2 read endpoints. Anonymous reads see live content and are served
 * from the read cache when possible; `?version=draft` (editors, reviewers) bypasses it.
 */
export async function pagesReadRoutes(app: FastifyInstance): Promise<void> {
  const { content, cache, version: contentVersion, config, media, renditions } = app.lectern;
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
      const specs = renditionSpecs(q.renditions);
      const list = await listPages(db, parsed.query);
      const env = { version, apiOrigin: apiOrigin(req), siteOrigin: siteOrigin(req), editorMeta: version === 'draft' };
      const items = list.rows.map((row) => serializePage(row, parsed.selection, env));
      await describePageMedia(media, renditions, items, { specs, origin: apiOrigin(req) });
      const body = JSON.stringify({ meta: { total_count: list.total }, items });
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
        page = await findPageByUrlPath(db, q.html_path, version);
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
      const specs = renditionSpecs(q.renditions);
      const parent = selection.fields.has('parent') && row.parentId !== null ? (await getVisiblePage(db, row.parentId, version)) ?? null : null;
      const out = serializePage(row, selection, {
        version, apiOrigin: apiOrigin(req), siteOrigin: siteOrigin(req), parent, editorMeta: version === 'draft',
      });
      await describePageMedia(media, renditions, [out], { specs, origin: apiOrigin(req) });
      const body = JSON.stringify(out);
      const revision = (version === 'live' ? row.liveRevisionId : row.latestRevisionId)!;
      return { status: 200, body, etag: pageEtag(revision, body), headers: { 'cache-control': cacheControl(version) } };
    });
    return sendPrepared(req, reply, res);
  });
}
