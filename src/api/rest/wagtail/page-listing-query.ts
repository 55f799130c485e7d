import { Errors } from '../../../errors.js';
import type { PageRow } from '../../../content/page-store.js';
import type { PageType, PageTypeRegistry } from '../../../content/page-types.js';
import { queryFields, type FieldKind, type Version } from '../../../content/queries/page-fields.js';
import type { PageQuery } from '../../../content/queries/list-pages.js';
import { pageCatalogue } from './page-serializer.js';
import { parsePythonInt } from './python-int.js';
import { FieldsError, selectFields, type FieldSelection } from './select-fields.js';

/** Query parameters that are operations rather than field filters (Wagtail's, plus `version`). */
export const LISTING_OPERATIONS = new Set([
  'limit', 'offset', 'fields', 'order', 'search', 'search_operator', '_', 'format',
  'type', 'child_of', 'ancestor_of', 'descendant_of', 'version', 'renditions',
]);

export interface ListingDeps {
  types: PageTypeRegistry;
  limitMax: number;
  version: Version;
  /** A page as visible in `version`, for the tree filters. */
  findPage: (id: number) => Promise<PageRow | undefined>;
}

export interface ParsedListing {
  query: PageQuery;
  selection: FieldSelection;
  pageType: PageType | null;
}

const bad = (message: string) => Errors.badQuery([message]);

/** `offset` then `limit`, checked as Wagtail's pagination does; the default limit is 20. */
export function parsePagination(q: Record<string, string>, limitMax: number): { limit: number; offset: number } {
  const offset = q.offset === undefined ? 0 : parsePythonInt(q.offset);
  if (offset === null || offset < 0) throw bad('offset must be a positive integer');
  const limit = q.limit === undefined ? Math.min(20, limitMax) : parsePythonInt(q.limit);
  if (limit === null || limit < 0) throw bad('limit must be a positive integer');
  if (limit > limitMax) throw bad(`limit cannot be higher than ${limitMax}`);
  return { limit, offset };
}

/** Wagtail takes the last value of a repeated parameter. */
export function lastValues(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) {
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    if (last !== undefined) out[k] = String(last);
  }
  return out;
}

/** The `type` parameter: comma-separated page type names. */
export function parseTypes(raw: string | undefined, types: PageTypeRegistry): PageType[] | null {
  if (raw === undefined) return null;
  const out = raw.split(',').map((name) => types.get(name));
  if (out.some((t) => t === undefined)) throw bad("type doesn't exist");
  return out as PageType[];
}

/**
 * Turns the query string of `GET /api/v2/pages/` into a PageQuery, checking in
 * Wagtail's order (type, unknown parameters, field filters, tree filters, ordering,
 * search, pagination, fields) and failing with Wagtail's messages.
 */
export async function parseListingQuery(q: Record<string, string>, deps: ListingDeps): Promise<ParsedListing> {
  const types = parseTypes(q.type, deps.types);
  const pageType = types?.length === 1 ? types[0]! : null;
  const fields = queryFields(pageType);

  const unknown = Object.keys(q).filter((k) => !LISTING_OPERATIONS.has(k) && !fields.has(k)).sort();
  if (unknown.length) throw bad(`query parameter is not an operation or a recognised field: ${unknown.join(', ')}`);

  const filters: NonNullable<PageQuery['filters']> = [];
  for (const [name, raw] of Object.entries(q)) {
    const field = fields.get(name);
    if (field) filters.push({ field, value: parseFilterValue(field, raw) });
  }

  const query: PageQuery = { version: deps.version, filters, limit: 0, offset: 0 };
  if (types) query.types = types.map((t) => t.name);

  if (q.child_of !== undefined) {
    if (q.child_of === 'root') query.childOf = null;
    else {
      const id = parsePythonInt(q.child_of);
      if (id === null || id < 0) throw bad('child_of must be a positive integer');
      const parent = await deps.findPage(id);
      if (!parent) throw bad("parent page doesn't exist");
      query.childOf = parent;
    }
  }
  if (q.ancestor_of !== undefined) {
    const id = parsePythonInt(q.ancestor_of);
    if (id === null || id < 0) throw bad('ancestor_of must be a positive integer');
    const page = await deps.findPage(id);
    if (!page) throw bad("descendant page doesn't exist");
    query.ancestorOf = page;
  }
  if (q.descendant_of !== undefined) {
    if (q.child_of !== undefined) throw bad('filtering by descendant_of with child_of is not supported');
    if (q.descendant_of === 'root') query.descendantOf = null;
    else {
      const id = parsePythonInt(q.descendant_of);
      if (id === null || id < 0) throw bad('descendant_of must be a positive integer');
      const ancestor = await deps.findPage(id);
      if (!ancestor) throw bad("ancestor page doesn't exist");
      query.descendantOf = ancestor;
    }
  }

  if (q.order !== undefined) query.order = parseOrder(q.order, fields, q.offset !== undefined);

  if (q.search !== undefined) {
    const operator = (q.search_operator ?? 'and').toLowerCase();
    if (operator !== 'and' && operator !== 'or') throw bad("search_operator must be either 'or' or 'and'");
    query.search = { terms: q.search.split(/\s+/u).filter(Boolean), operator };
  }

  Object.assign(query, parsePagination(q, deps.limitMax));

  let selection: FieldSelection;
  try {
    selection = selectFields(q.fields, pageCatalogue(pageType, false));
  } catch (err) {
    if (err instanceof FieldsError) throw bad(err.message);
    throw err;
  }
  query.members = documentMembers(selection);
  return { query, selection, pageType };
}

/** The members of a page document the selected fields read (see serializePage). */
function documentMembers(selection: FieldSelection): string[] {
  const fromMeta: Record<string, string> = { show_in_menus: 'show_in_menus', seo_title: 'seo_title', search_description: 'search_description' };
  const members = new Set<string>(['slug']);
  for (const name of selection.order) {
    if (name === 'id' || DOCLESS_META.has(name)) continue;
    members.add(fromMeta[name] ?? name);
  }
  return [...members];
}

/** Meta fields that come from the page row, not its document. */
const DOCLESS_META = new Set(['type', 'detail_url', 'html_url', 'slug', 'first_published_at', 'last_published_at', 'alias_of']);

/** `order`: fields, `-field`, several comma-separated, or `random` (alone, without offset). */
export function parseOrder<F extends { name: string }>(raw: string, fields: ReadonlyMap<string, F>, hasOffset: boolean): { field: F; descending: boolean }[] | 'random' {
  const items = raw.split(',');
  if (items.includes('random')) {
    if (items.length > 1) throw bad('random ordering cannot be combined with other fields');
    if (hasOffset) throw bad('random ordering with offset is not supported');
    return 'random';
  }
  return items.map((item) => {
    const descending = item.startsWith('-');
    const name = descending ? item.slice(1) : item;
    const field = fields.get(name);
    if (!field) throw bad(`cannot order by '${name}' (unknown field)`);
    return { field, descending };
  });
}

/** A field filter's value, parsed as Wagtail (Django) parses it for the field's kind. */
export function parseFilterValue(field: { name: string; kind: FieldKind }, raw: string): string | number | boolean | Date {
  const invalid = (why: string) => bad(`field filter error. '${raw}' is not a valid value for ${field.name} (${why})`);
  if (raw.includes('\0')) throw bad(`field filter error. null characters are not allowed for ${field.name}`);
  switch (field.kind) {
    case 'integer': {
      const n = parsePythonInt(raw);
      if (n === null) throw invalid(`invalid literal for int() with base 10: '${raw}'`);
      return n;
    }
    case 'number': {
      const n = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n)) throw invalid(`could not convert string to float: '${raw}'`);
      return n;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw invalid(`expected 'true' or 'false', got '${raw}'`);
    case 'datetime': {
      const d = new Date(raw);
      if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(d.getTime())) throw invalid('expected an ISO 8601 date and time');
      return d;
    }
    case 'text':
      return raw;
  }
}
