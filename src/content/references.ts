import { inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { documents, images } from '../db/schema.js';
import { Errors, type FieldError } from '../errors.js';
import { joinPointer } from '../blocks/ajv.js';

/** Block types whose value is the id of a library item, and the library it points into. */
const REFERENCE_BLOCKS = { image: 'image', document: 'document' } as const;
export type ReferenceKind = (typeof REFERENCE_BLOCKS)[keyof typeof REFERENCE_BLOCKS];

export interface Reference {
  kind: ReferenceKind;
  id: number;
  /** JSON pointer of the block's value in the page document (and so in a page payload). */
  path: string;
}

const isBlock = (v: unknown): v is { type: string; value: unknown } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { type?: unknown }).type === 'string' && 'value' in v;

/** Every image and document a page document points to, wherever the block is (nested streams too). */
export function referencesOf(doc: Record<string, unknown>): Reference[] {
  const found: Reference[] = [];
  const walk = (value: unknown, path: string) => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}/${i}`));
    } else if (isBlock(value)) {
      const kind = (REFERENCE_BLOCKS as Record<string, ReferenceKind | undefined>)[value.type];
      if (kind && typeof value.value === 'number') found.push({ kind, id: value.value, path: `${path}/value` });
      else walk(value.value, `${path}/value`);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, joinPointer(path, k));
    }
  };
  for (const [k, v] of Object.entries(doc)) walk(v, joinPointer('', k));
  return found;
}

/**
 * Refuses a page whose image and document blocks point to items that do not exist
 * (400, one error per block). Only references new since `previous` are checked: a page
 * that still shows an image deleted since stays editable, and its API output says the
 * image is missing.
 */
export async function checkReferences(db: Db, doc: Record<string, unknown>, previous: Record<string, unknown> | null): Promise<void> {
  const known = new Set(previous ? referencesOf(previous).map((r) => `${r.kind}:${r.id}`) : []);
  const fresh = referencesOf(doc).filter((r) => !known.has(`${r.kind}:${r.id}`));
  if (!fresh.length) return;
  const existing = new Set<string>();
  const ids = (kind: ReferenceKind) => [...new Set(fresh.filter((r) => r.kind === kind).map((r) => r.id))];
  const imageIds = ids('image');
  const documentIds = ids('document');
  if (imageIds.length) {
    for (const r of await db.select({ id: images.id }).from(images).where(inArray(images.id, imageIds))) existing.add(`image:${r.id}`);
  }
  if (documentIds.length) {
    for (const r of await db.select({ id: documents.id }).from(documents).where(inArray(documents.id, documentIds))) existing.add(`document:${r.id}`);
  }
  const errors: FieldError[] = fresh.filter((r) => !existing.has(`${r.kind}:${r.id}`))
    .map((r) => ({ path: r.path, message: `${r.kind}: there is no ${r.kind} ${r.id}` }));
  if (errors.length) throw Errors.validation([errors.map((e) => `${e.path} ${e.message}`).join('; ')], { errors });
}
