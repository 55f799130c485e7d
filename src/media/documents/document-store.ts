import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { documents } from '../../db/schema.js';
import { listLibrary, type LibraryField, type LibraryQuery } from '../library-query.js';

export type DocumentRow = typeof documents.$inferSelect;

/** The fields of the document listing that filter and order, as Wagtail's documents endpoint offers them. */
export const DOCUMENT_FIELDS: ReadonlyMap<string, LibraryField> = new Map([
  ['id', { name: 'id', kind: 'integer', column: documents.id }],
  ['title', { name: 'title', kind: 'text', column: documents.title }],
]);

export async function getDocument(db: Db, id: number): Promise<DocumentRow | undefined> {
  const [row] = await db.select().from(documents).where(eq(documents.id, id)).limit(1);
  return row;
}

export function listDocuments(db: Db, q: LibraryQuery): Promise<{ total: number; rows: DocumentRow[] }> {
  return listLibrary<DocumentRow>(db, { table: documents, id: documents.id, title: documents.title, tags: documents.tags }, q);
}
