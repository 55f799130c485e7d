import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { images } from '../../db/schema.js';
import { listLibrary, type LibraryField, type LibraryQuery } from '../library-query.js';
import type { FocalPoint } from './render-image.js';

export type ImageRow = typeof images.$inferSelect;

/** The fields of the image listing that filter and order, as Wagtail's images endpoint offers them. */
export const IMAGE_FIELDS: ReadonlyMap<string, LibraryField> = new Map([
  ['id', { name: 'id', kind: 'integer', column: images.id }],
  ['title', { name: 'title', kind: 'text', column: images.title }],
  ['width', { name: 'width', kind: 'integer', column: images.width }],
  ['height', { name: 'height', kind: 'integer', column: images.height }],
]);

export async function getImage(db: Db, id: number): Promise<ImageRow | undefined> {
  const [row] = await db.select().from(images).where(eq(images.id, id)).limit(1);
  return row;
}

export async function getImages(db: Db, ids: number[]): Promise<Map<number, ImageRow>> {
  if (!ids.length) return new Map();
  const rows = await db.select().from(images).where(inArray(images.id, ids));
  return new Map(rows.map((r) => [r.id, r]));
}

export function listImages(db: Db, q: LibraryQuery): Promise<{ total: number; rows: ImageRow[] }> {
  return listLibrary<ImageRow>(db, { table: images, id: images.id, title: images.title, tags: images.tags }, q);
}

export function focalPointOf(row: ImageRow): FocalPoint | null {
  if (row.focalPointX === null || row.focalPointY === null) return null;
  return { x: row.focalPointX, y: row.focalPointY, width: row.focalPointWidth ?? 1, height: row.focalPointHeight ?? 1 };
}

/** Identifies the focal point in rendition keys: a new focal point makes new renditions. */
export function focalPointKey(fp: FocalPoint | null): string {
  return fp ? `${fp.x}-${fp.y}-${fp.width}-${fp.height}` : '';
}
