import { inArray } from 'drizzle-orm';
import { documents } from '../db/schema.js';
import type { FilterSpec } from './images/filter-spec.js';
import { getImages } from './images/image-store.js';
import type { ImageRenditions, RenditionRef } from './images/image-renditions.js';
import type { MediaContext } from './media-context.js';

type Block = { type: string; value: unknown; id?: string } & Record<string, unknown>;

const isBlock = (v: unknown): v is Block =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { type?: unknown }).type === 'string' && 'value' in v;

/** Every image and document block in serialized pages, wherever it is nested. */
function mediaBlocks(roots: unknown[]): { images: Block[]; documents: Block[] } {
  const found = { images: [] as Block[], documents: [] as Block[] };
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isBlock(v)) {
      if (v.type === 'image' && typeof v.value === 'number') found.images.push(v);
      else if (v.type === 'document' && typeof v.value === 'number') found.documents.push(v);
      else walk(v.value);
    } else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  roots.forEach(walk);
  return found;
}

export interface PageMediaOptions {
  /** `renditions=` of the request: each image block gets these renditions' URLs and sizes. */
  specs: FilterSpec[];
  /** Makes the URLs of files the CMS serves itself absolute. */
  origin: string;
}

/**
 * Adds to serialized pages what a frontend needs about their images and documents, so
 * it renders a lesson with no request per image:
 * - a block whose image or document no longer exists gets `"missing": true` (the page
 *   keeps working; its default output is otherwise Wagtail's bare id);
 * - with `renditions=fill-800x450,width-400`, each image block gets `"image": {id, title,
 *   width, height, renditions: {<spec>: {url, width, height}}}`. A rendition made before
 *   links to its file; one not made yet links to the rendition endpoint (which makes it)
 *   with the size it will have.
 */
export async function describePageMedia(ctx: MediaContext, renditions: ImageRenditions, pages: unknown[], opts: PageMediaOptions): Promise<void> {
  const blocks = mediaBlocks(pages);
  if (!blocks.images.length && !blocks.documents.length) return;
  const images = await getImages(ctx.db, [...new Set(blocks.images.map((b) => b.value as number))]);
  const documentIds = [...new Set(blocks.documents.map((b) => b.value as number))];
  const presentDocuments = new Set(documentIds.length
    ? (await ctx.db.select({ id: documents.id }).from(documents).where(inArray(documents.id, documentIds))).map((r) => r.id)
    : []);
  for (const b of blocks.documents) if (!presentDocuments.has(b.value as number)) b.missing = true;

  const made = new Map<string, Map<number, { url: string; width: number; height: number }>>();
  for (const spec of opts.specs) {
    const rows = await renditions.existing([...images.values()], spec);
    made.set(spec.canonical, new Map([...rows].map(([id, r]) => [id, { url: absolute(renditions.url(r), opts.origin), width: r.width, height: r.height }])));
  }
  for (const b of blocks.images) {
    const image = images.get(b.value as number);
    if (!image) {
      b.missing = true;
      if (opts.specs.length) b.image = null;
      continue;
    }
    if (!opts.specs.length) continue;
    const refs: Record<string, RenditionRef> = {};
    for (const spec of opts.specs) {
      refs[spec.canonical] = made.get(spec.canonical)!.get(image.id) ?? {
        url: `${opts.origin}/api/v2/images/${image.id}/renditions/${encodeURIComponent(spec.canonical)}`,
        ...renditions.plannedSize(image, spec),
      };
    }
    b.image = { id: image.id, title: image.title, width: image.width, height: image.height, renditions: refs };
  }
}

const absolute = (url: string, origin: string) => (url.startsWith('/') ? `${origin}${url}` : url);
