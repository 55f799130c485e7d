import { and, asc, desc, eq, ilike, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import type { FieldKind } from '../content/queries/page-fields.js';

/** A field of a library (images, documents) that listings filter and order by. */
export interface LibraryField {
  name: string;
  kind: FieldKind;
  column: PgColumn;
}

/** A listing of the image or document library, as Wagtail's images/documents endpoints take it. */
export interface LibraryQuery {
  filters: { field: LibraryField; value: string | number | boolean | Date }[];
  /** Items carrying every one of these tags. */
  tags: string[];
  order?: { field: LibraryField; descending: boolean }[] | 'random';
  search?: { terms: string[]; operator: 'and' | 'or' };
  limit: number;
  offset: number;
}

interface LibraryTable {
  table: PgTable;
  id: PgColumn;
  title: PgColumn;
  tags: PgColumn;
}

/** Escapes LIKE wildcards so a search term matches itself. */
const likeTerm = (term: string) => `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Lists a library: field filters, tags, search over the title and tags, ordering (by id
 * unless asked otherwise, as Wagtail does) and pagination. Returns the page of rows and
 * the total.
 */
export async function listLibrary<Row>(db: Db, lib: LibraryTable, q: LibraryQuery): Promise<{ total: number; rows: Row[] }> {
  const where: SQL[] = q.filters.map((f) => eq(f.field.column, f.value));
  if (q.tags.length) where.push(sql`${lib.tags} @> ${JSON.stringify(q.tags)}::jsonb`);
  if (q.search && q.search.terms.length) {
    const matches = q.search.terms.map((t) => or(
      ilike(lib.title, likeTerm(t)),
      sql`exists (select 1 from jsonb_array_elements_text(${lib.tags}) as tag where tag ilike ${likeTerm(t)})`,
    )!);
    where.push((q.search.operator === 'or' ? or(...matches) : and(...matches))!);
  }
  const condition = where.length ? and(...where) : undefined;
  const order = q.order === 'random'
    ? [sql`random()`]
    : [...(q.order ?? []).map((o) => (o.descending ? desc(o.field.column) : asc(o.field.column))), asc(lib.id)];
  const [rows, counted] = await Promise.all([
    db.select().from(lib.table).where(condition).orderBy(...order).limit(q.limit).offset(q.offset),
    db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(lib.table).where(condition),
  ]);
  return { total: counted[0]?.n ?? 0, rows: rows as Row[] };
}
