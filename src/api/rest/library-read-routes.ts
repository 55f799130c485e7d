import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../../errors.js';
import type { LibraryQuery } from '../../media/library-query.js';
import { listingEtag } from './etag.js';
import { apiOrigin, principalOf } from './request-auth.js';
import { PUBLIC_CACHE_CONTROL, sendPrepared } from './send-json.js';
import { lastValues } from './wagtail/page-listing-query.js';
import { librarySelection, parseLibraryListing, serializeLibraryItem, type Library } from './wagtail/library-listing.js';
import { parsePythonInt } from './wagtail/python-int.js';

interface LibraryItem {
  id: number;
  title: string;
  tags: string[];
}

export interface LibraryReads<Row extends LibraryItem> {
  library: Library;
  /** "image": for summaries. */
  noun: string;
  get(id: number): Promise<Row | undefined>;
  list(q: LibraryQuery): Promise<{ total: number; rows: Row[] }>;
  downloadUrl(req: FastifyRequest, row: Row): string;
  notFound(): Error;
  summaries: { listing: string; detail: string };
}

/**
 * The Wagtail read endpoints an image or document library shares: listing (fields,
 * filters, tags, search, order, pagination), `find/?id=` (302) and detail, for anyone.
 */
export function libraryReadRoutes<Row extends LibraryItem>(app: FastifyInstance, reads: LibraryReads<Row>): void {
  const { library } = reads;
  const { config } = app.lectern;
  const itemJson = (req: FastifyRequest, row: Row, detail: boolean, fields?: string) =>
    serializeLibraryItem(library, row as Row & Record<string, unknown>, librarySelection(library, fields, detail), { apiOrigin: apiOrigin(req), downloadUrl: reads.downloadUrl(req, row) });
  const send = (req: FastifyRequest, reply: Parameters<typeof sendPrepared>[1], body: string) =>
    sendPrepared(req, reply, { status: 200, body, etag: listingEtag(body), headers: { 'cache-control': PUBLIC_CACHE_CONTROL } });

  app.get(library.path, { schema: { tags: ['media'], summary: reads.summaries.listing } }, async (req, reply) => {
    await principalOf(req);
    const { query, selection } = parseLibraryListing(req.query as Record<string, unknown>, library, config.apiLimitMax);
    const list = await reads.list(query);
    const items = list.rows.map((r) => serializeLibraryItem(library, r as Row & Record<string, unknown>, selection, { apiOrigin: apiOrigin(req), downloadUrl: reads.downloadUrl(req, r) }));
    return send(req, reply, JSON.stringify({ meta: { total_count: list.total }, items }));
  });

  app.get(`${library.path}find/`, {
    schema: { tags: ['media'], summary: `Redirects (302) to the detail of the ${reads.noun} with ?id=` },
  }, async (req, reply) => {
    const q = lastValues(req.query as Record<string, unknown>);
    const id = q.id === undefined ? null : parsePythonInt(q.id);
    const row = id === null ? undefined : await reads.get(id);
    if (!row) throw Errors.notFound();
    return reply.redirect(`${apiOrigin(req)}${library.path}${row.id}/`, 302);
  });

  app.get(`${library.path}:id/`, { schema: { tags: ['media'], summary: reads.summaries.detail } }, async (req, reply) => {
    await principalOf(req);
    const id = parsePythonInt((req.params as { id: string }).id);
    const row = id === null ? undefined : await reads.get(id);
    if (!row) throw reads.notFound();
    return send(req, reply, JSON.stringify(itemJson(req, row, true, lastValues(req.query as Record<string, unknown>).fields)));
  });
}
