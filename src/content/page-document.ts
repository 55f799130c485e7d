import type { PageType } from './page-types.js';

/**
 * A page as stored: one canonical JSON file per page in git (`pages/<NN>/<id>.json`) and the
 * same document in the database. Common members first, then the page type's fields in
 * declaration order; blocks as `{type, value, id}`; other objects with sorted keys.
 */
export interface PageDoc {
  id: number;
  type: string;
  parent: number | null;
  title: string;
  slug: string;
  seo_title: string;
  search_description: string;
  show_in_menus: boolean;
  [field: string]: unknown;
}

/** Members every page has, with the value a new page starts with. */
export const COMMON_DEFAULTS = { seo_title: '', search_description: '', show_in_menus: false } as const;
export const COMMON_MEMBERS = ['id', 'type', 'parent', 'title', 'slug', 'seo_title', 'search_description', 'show_in_menus'] as const;

/** Builds the canonical member order for a page of `type`. */
export function canonicalPageDoc(type: PageType, doc: PageDoc): PageDoc {
  const out: Record<string, unknown> = {};
  for (const k of COMMON_MEMBERS) out[k] = doc[k];
  for (const f of type.fields) if (doc[f.name] !== undefined) out[f.name] = doc[f.name];
  return out as PageDoc;
}

/** The file text: pretty-printed, so `git log -p` and `git diff live main` read well. */
export function serializePageDoc(doc: PageDoc): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
