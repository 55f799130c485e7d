import { Errors } from '../../../errors.js';
import type { LibraryField, LibraryQuery } from '../../../media/library-query.js';
import { lastValues, parseFilterValue, parseOrder, parsePagination } from './page-listing-query.js';
import { FieldsError, selectFields, type FieldCatalogue, type FieldSelection } from './select-fields.js';

/** Query parameters of the image and document listings that are operations rather than filters. */
const OPERATIONS = new Set(['limit', 'offset', 'fields', 'order', 'search', 'search_operator', 'format']);

const bad = (message: string) => Errors.badQuery([message]);

export interface Library {
  /** Wagtail's model name for `meta.type` ("wagtailimages.Image"). */
  type: string;
  /** The listing URL ("/api/v2/images/"). */
  path: string;
  /** Body fields after `title` ("width", "height" for images). */
  bodyFields: string[];
  filters: ReadonlyMap<string, LibraryField>;
  /** More operations this library takes (images: `renditions`). */
  operations?: readonly string[];
}

const META = ['type', 'detail_url', 'tags', 'download_url'];

/** Wagtail's images/documents fields: listings default to the meta fields and the title; details show all. */
export function libraryCatalogue(lib: Library, detail: boolean): FieldCatalogue {
  const all = ['id', ...META, 'title', ...lib.bodyFields];
  return { all, defaults: detail ? all : ['id', ...META, 'title'], relations: new Map() };
}

export function librarySelection(lib: Library, fields: string | undefined, detail: boolean): FieldSelection {
  try {
    return selectFields(fields, libraryCatalogue(lib, detail));
  } catch (err) {
    if (err instanceof FieldsError) throw bad(err.message);
    throw err;
  }
}

/**
 * The query string of `GET /api/v2/images/` or `/api/v2/documents/`, checked in
 * Wagtail's order (unknown parameters, field filters, ordering, search, pagination,
 * fields) with Wagtail's messages. `tags=a,b` keeps items having both tags.
 */
export function parseLibraryListing(query: Record<string, unknown>, lib: Library, limitMax: number): { query: LibraryQuery; selection: FieldSelection; q: Record<string, string> } {
  const q = lastValues(query);
  const known = (k: string) => OPERATIONS.has(k) || lib.operations?.includes(k) || lib.filters.has(k) || k === 'tags';
  const unknown = Object.keys(q).filter((k) => !known(k)).sort();
  if (unknown.length) throw bad(`query parameter is not an operation or a recognised field: ${unknown.join(', ')}`);
  const filters: LibraryQuery['filters'] = [];
  for (const [name, raw] of Object.entries(q)) {
    const field = lib.filters.get(name);
    if (field) filters.push({ field, value: parseFilterValue(field, raw) });
  }
  if (q.tags?.includes('\0')) throw bad('field filter error. null characters are not allowed for tags');
  const tags = q.tags === undefined ? [] : q.tags.split(',').map((t) => t.trim()).filter(Boolean);
  const out: LibraryQuery = { filters, tags, limit: 0, offset: 0 };
  if (q.order !== undefined) out.order = parseOrder(q.order, lib.filters, q.offset !== undefined);
  if (q.search !== undefined) {
    const operator = (q.search_operator ?? 'and').toLowerCase();
    if (operator !== 'and' && operator !== 'or') throw bad("search_operator must be either 'or' or 'and'");
    out.search = { terms: q.search.split(/\s+/u).filter(Boolean), operator };
  }
  Object.assign(out, parsePagination(q, limitMax));
  return { query: out, selection: librarySelection(lib, q.fields, false), q };
}

/** One image or document in Wagtail's shape: `id`, `meta`, then the selected body fields. */
export function serializeLibraryItem(
  lib: Library,
  item: { id: number; title: string; tags: string[] } & Record<string, unknown>,
  sel: FieldSelection,
  env: { apiOrigin: string; downloadUrl: string },
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const f = sel.fields;
  if (f.has('id')) out.id = item.id;
  const meta: Record<string, unknown> = {};
  if (f.has('type')) meta.type = lib.type;
  if (f.has('detail_url')) meta.detail_url = `${env.apiOrigin}${lib.path}${item.id}/`;
  if (f.has('tags')) meta.tags = item.tags;
  if (f.has('download_url')) meta.download_url = env.downloadUrl;
  if (Object.keys(meta).length) out.meta = meta;
  if (f.has('title')) out.title = item.title;
  for (const name of lib.bodyFields) if (f.has(name)) out[name] = item[name];
  return out;
}
