import type { PageDoc } from '../../../content/page-document.js';
import type { PageRow } from '../../../content/page-store.js';
import type { PageType } from '../../../content/page-types.js';
import type { Version } from '../../../content/queries/page-fields.js';
import type { FieldCatalogue, FieldSelection } from './select-fields.js';

/** Meta fields in Wagtail's output order; `parent` only on detail. */
const META = ['type', 'detail_url', 'html_url', 'slug', 'show_in_menus', 'seo_title', 'search_description', 'first_published_at', 'last_published_at', 'alias_of', 'parent'];
const META_SET = new Set(META);

const NESTED_PAGE: FieldCatalogue = {
  all: ['id', 'type', 'detail_url', 'html_url', 'slug', 'title'],
  defaults: ['id', 'type', 'detail_url', 'html_url', 'title'],
  relations: new Map(),
};

/**
 * The fields a page response can have: Wagtail's generic page fields, plus the page
 * type's own fields when exactly one type is known (a detail, or a listing with `type=`).
 */
export function pageCatalogue(type: PageType | null, detail: boolean): FieldCatalogue {
  const body = ['id', 'title', ...(type?.fields.map((f) => f.name) ?? [])];
  const meta = detail ? META : META.filter((m) => m !== 'parent');
  const all = [...body, ...meta];
  return {
    all,
    defaults: detail ? all : ['id', 'type', 'detail_url', 'html_url', 'slug', 'first_published_at', 'title'],
    relations: detail ? new Map([['parent', NESTED_PAGE]]) : new Map(),
  };
}

export interface SerializeEnv {
  version: Version;
  /** scheme://host of this API, for detail_url. */
  apiOrigin: string;
  /** scheme://host of the frontend site, for html_url. */
  siteOrigin: string;
  /** Looks up the parent for `meta.parent` (detail only); null when it is not visible. */
  parent?: PageRow | null;
  /** Adds meta.revision, meta.live, meta.has_unpublished_changes (drafts and write responses). */
  editorMeta?: boolean;
}

/** Wagtail (DRF) dates: ISO 8601, `Z` for UTC, microseconds only when not zero. */
export function formatDate(d: Date | null): string | null {
  if (!d) return null;
  const iso = d.toISOString();
  return d.getUTCMilliseconds() === 0 ? iso.replace(/\.\d{3}Z$/, 'Z') : iso.replace(/Z$/, '000Z');
}

export const docFor = (row: PageRow, version: Version): PageDoc => (version === 'live' ? (row.liveContent ?? row.draft) : row.draft) as PageDoc;

export function detailUrl(apiOrigin: string, id: number): string {
  return `${apiOrigin}/api/v2/pages/${id}/`;
}

export function serializePage(row: PageRow, sel: FieldSelection, env: SerializeEnv): Record<string, unknown> {
  const doc = docFor(row, env.version);
  const f = sel.fields;
  const out: Record<string, unknown> = {};
  if (f.has('id')) out.id = row.id;

  const meta: Record<string, unknown> = {};
  for (const name of META) {
    if (!f.has(name)) continue;
    switch (name) {
      case 'type': meta.type = row.type; break;
      case 'detail_url': meta.detail_url = detailUrl(env.apiOrigin, row.id); break;
      case 'html_url': meta.html_url = `${env.siteOrigin}${row.urlPath}`; break;
      case 'slug': meta.slug = env.version === 'live' ? row.slug : doc.slug; break;
      case 'show_in_menus': meta.show_in_menus = doc.show_in_menus ?? false; break;
      case 'seo_title': meta.seo_title = doc.seo_title ?? ''; break;
      case 'search_description': meta.search_description = doc.search_description ?? ''; break;
      case 'first_published_at': meta.first_published_at = formatDate(row.firstPublishedAt); break;
      case 'last_published_at': meta.last_published_at = formatDate(row.lastPublishedAt); break;
      case 'alias_of': meta.alias_of = null; break;
      case 'parent': meta.parent = env.parent ? serializePage(env.parent, sel.nested.get('parent') ?? { fields: new Set(NESTED_PAGE.defaults), order: NESTED_PAGE.defaults.slice(), nested: new Map() }, { ...env, parent: undefined, editorMeta: false }) : null; break;
    }
  }
  if (env.editorMeta) {
    meta.revision = env.version === 'live' ? row.liveRevisionId : row.latestRevisionId;
    meta.live = row.live;
    meta.has_unpublished_changes = row.hasUnpublishedChanges;
    meta.live_revision = row.liveRevisionId;
    meta.go_live_at = formatDate(row.goLiveAt);
    meta.expire_at = formatDate(row.expireAt);
    meta.scheduled_revision = row.scheduledRevisionId;
  }
  if (Object.keys(meta).length) out.meta = meta;

  if (f.has('title')) out.title = doc.title;
  for (const name of sel.order) {
    if (name === 'id' || name === 'title' || META_SET.has(name)) continue;
    out[name] = doc[name] ?? null;
  }
  return out;
}
