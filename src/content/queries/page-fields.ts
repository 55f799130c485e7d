import { sql, type SQL } from 'drizzle-orm';
import { pages } from '../../db/schema.js';
import type { PageType } from '../page-types.js';

export type Version = 'live' | 'draft';
export type FieldKind = 'integer' | 'number' | 'text' | 'boolean' | 'datetime';

/** A field the read API can filter and order by, and the SQL that reads it. */
export interface QueryField {
  name: string;
  kind: FieldKind;
  expr: (version: Version) => SQL;
}

export const contentColumn = (version: Version) => (version === 'live' ? pages.liveContent : pages.draft);

const member = (name: string, kind: FieldKind): QueryField => ({
  name,
  kind,
  expr: (v) => {
    const text = sql`(${contentColumn(v)}->>${name})`;
    if (kind === 'integer' || kind === 'number') return sql`${text}::numeric`;
    if (kind === 'boolean') return sql`${text}::boolean`;
    return text;
  },
});

const COMMON: QueryField[] = [
  { name: 'id', kind: 'integer', expr: () => sql`${pages.id}` },
  member('title', 'text'),
  // For live pages the row's slug is the published one; drafts carry their own.
  { name: 'slug', kind: 'text', expr: (v) => (v === 'live' ? sql`${pages.slug}` : sql`(${pages.draft}->>'slug')`) },
  member('seo_title', 'text'),
  member('search_description', 'text'),
  member('show_in_menus', 'boolean'),
  { name: 'first_published_at', kind: 'datetime', expr: () => sql`${pages.firstPublishedAt}` },
  { name: 'last_published_at', kind: 'datetime', expr: () => sql`${pages.lastPublishedAt}` },
];

const KINDS: Record<string, FieldKind> = { string: 'text', integer: 'integer', number: 'number', boolean: 'boolean' };

/**
 * The filterable, orderable fields: the common ones, plus the scalar fields of `type`
 * when the query names exactly one type (as in Wagtail, where `type` unlocks fields).
 */
export function queryFields(type: PageType | null): Map<string, QueryField> {
  const fields = new Map(COMMON.map((f) => [f.name, f]));
  for (const f of type?.fields ?? []) {
    if (!f.scalar) continue;
    const spec = f.spec.kind === 'value' ? f.spec : null;
    const kind = KINDS[String(spec?.schema.type)] ?? 'text';
    fields.set(f.name, member(f.name, kind));
  }
  return fields;
}
