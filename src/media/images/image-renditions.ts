import { and, eq, inArray, sql } from 'drizzle-orm';
import { cpus } from 'node:os';
import { imageRenditions } from '../../db/schema.js';
import { Errors } from '../../errors.js';
import { asClientError, mediaKeys, mediaUrl, readObject } from '../media-files.js';
import type { MediaContext } from '../media-context.js';
import { FilterSpecError, parseFilterSpec, type FilterSpec } from './filter-spec.js';
import { focalPointKey, focalPointOf, getImage, type ImageRow } from './image-store.js';
import { ImageRejectedError } from './probe-image.js';
import { planRendition, renderImage } from './render-image.js';

export type RenditionRow = typeof imageRenditions.$inferSelect;

/** A rendition as API output shows it. */
export interface RenditionRef {
  url: string;
  width: number;
  height: number;
}

/** A filter spec from a URL or query, or 400 naming the bad part. */
export function filterSpecOf(raw: string, path = '/filter_spec'): FilterSpec {
  try {
    return parseFilterSpec(raw);
  } catch (err) {
    if (err instanceof FilterSpecError) throw Errors.badFilterSpec([err.message], { errors: [{ path, message: err.message }], extra: { part: err.part } });
    throw err;
  }
}

/**
 * Renditions by Wagtail filter spec, made on first request and kept (file in storage +
 * a row), so the second request does no image work. Concurrent first requests in this
 * process share one making; processes racing on one rendition write the same key and
 * the database keeps one row.
 */
export class ImageRenditions {
  private readonly making = new Map<string, Promise<RenditionRow>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Renders at once at most: libvips uses every core for one image already. */
  private readonly maxRunning = Math.max(1, Math.min(4, cpus().length));

  constructor(private readonly ctx: MediaContext) {}

  /**
   * The rendition of image `imageId` for `spec`, made now if it does not exist yet. The
   * endpoint is public (frontends link to it), so anyone could ask for thousands of specs
   * of one image: past MAX_RENDITIONS_PER_IMAGE only `privileged` callers (editors) make
   * new ones; existing renditions are always served.
   */
  async get(imageId: number, spec: FilterSpec, opts: { privileged: boolean }): Promise<RenditionRow> {
    const image = await getImage(this.ctx.db, imageId);
    if (!image) throw Errors.imageNotFound();
    return this.of(image, spec, opts);
  }

  async of(image: ImageRow, spec: FilterSpec, opts: { privileged: boolean }): Promise<RenditionRow> {
    const focal = this.focalKey(image, spec);
    const found = await this.find(image.id, spec, focal);
    if (found) return found;
    if (!opts.privileged) {
      const [row] = await this.ctx.db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(imageRenditions).where(eq(imageRenditions.imageId, image.id));
      const max = this.ctx.config.maxRenditionsPerImage;
      if ((row?.n ?? 0) >= max) throw Errors.renditionLimit([image.id, max]);
    }
    const key = `${image.id}|${spec.canonical}|${focal}`;
    let pending = this.making.get(key);
    if (!pending) {
      pending = this.make(image, spec, focal).finally(() => this.making.delete(key));
      this.making.set(key, pending);
    }
    return pending;
  }

  /** Existing renditions of these images for `spec`, without making any (page output). */
  async existing(images: ImageRow[], spec: FilterSpec): Promise<Map<number, RenditionRow>> {
    const out = new Map<number, RenditionRow>();
    if (!images.length) return out;
    const wanted = new Map(images.map((i) => [i.id, this.focalKey(i, spec)]));
    const rows = await this.ctx.db.select().from(imageRenditions)
      .where(and(inArray(imageRenditions.imageId, [...wanted.keys()]), eq(imageRenditions.filterSpec, spec.canonical)));
    for (const row of rows) if (wanted.get(row.imageId) === row.focalPointKey) out.set(row.imageId, row);
    return out;
  }

  /** What a rendition will measure, from the original's size alone: no image work. */
  plannedSize(image: ImageRow, spec: FilterSpec): { width: number; height: number } {
    const plan = planRendition(image.width, image.height, spec.resize, focalPointOf(image));
    return { width: plan.width, height: plan.height };
  }

  url(row: RenditionRow): string {
    return mediaUrl(this.ctx.storage, row.fileKey);
  }

  /** Only `fill` crops around the focal point; other renditions do not depend on it. */
  private focalKey(image: ImageRow, spec: FilterSpec): string {
    return spec.resize.op === 'fill' ? focalPointKey(focalPointOf(image)) : '';
  }

  private async find(imageId: number, spec: FilterSpec, focal: string): Promise<RenditionRow | undefined> {
    const [row] = await this.ctx.db.select().from(imageRenditions).where(and(
      eq(imageRenditions.imageId, imageId), eq(imageRenditions.filterSpec, spec.canonical), eq(imageRenditions.focalPointKey, focal),
    )).limit(1);
    return row;
  }

  private async make(image: ImageRow, spec: FilterSpec, focal: string): Promise<RenditionRow> {
    await this.slot();
    let rendered;
    try {
      const original = await readObject(this.ctx.storage, image.fileKey);
      rendered = await renderImage(original, spec, { focalPoint: focalPointOf(image), maxPixels: this.ctx.config.maxImagePixels });
    } catch (err) {
      if (err instanceof ImageRejectedError) throw Errors.imageRejected([`image ${image.id} cannot be rendered: ${err.message}`]);
      throw err;
    } finally {
      this.release();
    }
    const fileKey = mediaKeys.rendition(image.id, image.fileHash, spec.fileSafe, focal, rendered.extension);
    await this.ctx.storage.put(fileKey, rendered.data, { contentType: rendered.mime, size: rendered.data.length }).catch((err) => { throw asClientError(err); });
    let row: RenditionRow | undefined;
    try {
      [row] = await this.ctx.db.insert(imageRenditions).values({
        imageId: image.id, filterSpec: spec.canonical, focalPointKey: focal, fileKey,
        fileSize: rendered.data.length, mime: rendered.mime, width: rendered.width, height: rendered.height,
      }).onConflictDoNothing().returning();
    } catch (err) {
      // The image was deleted while its rendition was made: no row may point at it, and
      // the file must not outlive it.
      if (await getImage(this.ctx.db, image.id)) throw err;
      await this.ctx.storage.delete(fileKey).catch((e) => this.ctx.log(e, 'removing an orphan rendition failed'));
      throw Errors.imageNotFound();
    }
    if (row) return row;
    const existing = await this.find(image.id, spec, focal);
    if (!existing) throw Errors.imageNotFound();
    return existing;
  }

  private async slot(): Promise<void> {
    if (this.running < this.maxRunning) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
