import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { IMAGE_FORMAT_INFO, type FilterSpec, type ImageFormat, type ResizeOperation } from './filter-spec.js';
import { DECODE_FAIL_ON, ImageRejectedError } from './probe-image.js';

/**
 * Wagtail's focal point: the centre (`x`, `y`) and size of the subject, in pixels of
 * the image as displayed (after its EXIF orientation is applied).
 */
export interface FocalPoint {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface RenderedImage {
  data: Buffer;
  format: ImageFormat;
  mime: string;
  extension: string;
  width: number;
  height: number;
}

/** Wagtail's defaults (WAGTAILIMAGES_JPEG_QUALITY, _WEBP_QUALITY, _AVIF_QUALITY). */
export const DEFAULT_QUALITY = { jpeg: 85, webp: 80, avif: 80 } as const;

export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Where a rendition comes from in the (oriented) original, and its final size. */
export interface RenditionPlan {
  crop: CropBox | null;
  width: number;
  height: number;
}

const ANIMATED_FORMATS = new Set<ImageFormat>(['gif', 'webp']);

/**
 * A rendition of `original` as `spec` describes it, with Wagtail's semantics: images are
 * never enlarged, `fill` crops around the focal point, the EXIF orientation is applied
 * and all metadata stripped.
 *
 * Output format: `format-*` when given, else the original's, except that a still GIF
 * becomes PNG (as Wagtail does: a resized still needs more than GIF's 256 colours). An
 * animated GIF or WebP stays animated when the output is GIF or WebP and all its frames
 * fit in `maxPixels`; otherwise the rendition is its first frame.
 */
export async function renderImage(
  original: Buffer,
  spec: FilterSpec,
  opts: { focalPoint?: FocalPoint | null; maxPixels: number },
): Promise<RenderedImage> {
  let meta: Metadata;
  try {
    meta = await sharp(original, { failOn: DECODE_FAIL_ON, limitInputPixels: false }).metadata();
  } catch {
    throw new ImageRejectedError('corrupt', 'the original image cannot be read');
  }
  const source = sourceFormat(meta);
  if (!source) throw new ImageRejectedError('unsupported-format', `cannot render a ${meta.format} original`);
  const pixels = meta.width * meta.height;
  if (pixels > opts.maxPixels) {
    throw new ImageRejectedError('too-many-pixels', `the original has ${pixels} pixels; at most ${opts.maxPixels} are accepted`);
  }

  const frames = Math.max(1, meta.pages ?? 1);
  const format = spec.format ?? (source === 'gif' && frames === 1 ? 'png' : source);
  const animated = frames > 1 && ANIMATED_FORMATS.has(format) && pixels * frames <= opts.maxPixels;
  const plan = planRendition(meta.autoOrient.width, meta.autoOrient.height, spec.resize, opts.focalPoint);

  let image = sharp(original, { failOn: DECODE_FAIL_ON, limitInputPixels: opts.maxPixels, animated, autoOrient: true });
  if (plan.crop) image = image.extract(plan.crop);
  const current = plan.crop ?? meta.autoOrient;
  if (plan.width !== current.width || plan.height !== current.height) {
    image = image.resize(plan.width, plan.height, { fit: 'fill' });
  }
  // Wagtail puts transparent pixels on white for JPEG, which has no alpha channel.
  const background = spec.background ?? (format === 'jpeg' ? '#ffffff' : null);
  if (background) image = image.flatten({ background });
  image = encode(image, format, spec);

  let output: { data: Buffer; info: OutputInfo };
  try {
    output = await image.toBuffer({ resolveWithObject: true });
  } catch (err) {
    if (err instanceof Error && /pixel limit/i.test(err.message)) {
      throw new ImageRejectedError('too-many-pixels', `the original exceeds ${opts.maxPixels} pixels`);
    }
    throw new ImageRejectedError('corrupt', 'the original image is truncated or damaged and cannot be decoded');
  }
  const { data, info } = output;
  return { data, format, ...IMAGE_FORMAT_INFO[format], width: info.width, height: info.pageHeight ?? info.height };
}

function encode(image: Sharp, format: ImageFormat, spec: FilterSpec): Sharp {
  switch (format) {
    case 'jpeg': return image.jpeg({ quality: spec.jpegQuality ?? DEFAULT_QUALITY.jpeg, progressive: true });
    case 'png': return image.png();
    case 'gif': return image.gif();
    case 'webp': return image.webp(spec.lossless ? { lossless: true } : { quality: spec.webpQuality ?? DEFAULT_QUALITY.webp });
    case 'avif': return image.avif(spec.lossless ? { lossless: true } : { quality: spec.avifQuality ?? DEFAULT_QUALITY.avif });
  }
}

function sourceFormat(meta: Metadata): ImageFormat | null {
  if (meta.format === 'heif') return meta.compression === 'av1' ? 'avif' : null;
  return (Object.keys(IMAGE_FORMAT_INFO) as string[]).includes(meta.format) ? (meta.format as ImageFormat) : null;
}

/**
 * The crop and final size of a rendition of a `width`×`height` image. Sizes are
 * truncated to whole pixels as Wagtail's operations do, so a frontend switching from
 * Wagtail gets renditions of the same size.
 */
export function planRendition(
  width: number,
  height: number,
  resize: ResizeOperation,
  focalPoint?: FocalPoint | null,
): RenditionPlan {
  const keep = { crop: null, width, height };
  const scaled = (w: number, h: number) => ({ crop: null, width: Math.max(1, w), height: Math.max(1, h) });
  switch (resize.op) {
    case 'original':
      return keep;
    case 'width':
      return width <= resize.size ? keep : scaled(resize.size, Math.floor(height * (resize.size / width)));
    case 'height':
      return height <= resize.size ? keep : scaled(Math.floor(width * (resize.size / height)), resize.size);
    case 'scale':
      return resize.percent === 100 ? keep : scaled(Math.floor(width * (resize.percent / 100)), Math.floor(height * (resize.percent / 100)));
    case 'max': {
      if (width <= resize.width && height <= resize.height) return keep;
      const horz = resize.width / width;
      const vert = resize.height / height;
      return horz < vert
        ? scaled(resize.width, Math.floor(height * horz))
        : scaled(Math.floor(width * vert), resize.height);
    }
    case 'min': {
      // Covering the box would mean enlarging an image already narrower or shorter than it.
      if (width <= resize.width || height <= resize.height) return keep;
      const horz = resize.width / width;
      const vert = resize.height / height;
      return horz > vert
        ? scaled(resize.width, Math.floor(height * horz))
        : scaled(Math.floor(width * vert), resize.height);
    }
    case 'fill':
      return planFill(width, height, resize, focalPoint ? clampFocalPoint(focalPoint, width, height) : null);
  }
}

interface Rect { left: number; top: number; right: number; bottom: number }

/**
 * Wagtail's FillOperation. The crop has the target's aspect ratio and ranges from the
 * largest such box in the image (closeness 0) to the smallest box holding the focal
 * point (closeness 100), linearly: size = max + (min − max) × closeness/100, but never
 * smaller than the target, which would mean enlarging it. The focal point keeps its
 * relative place (a subject at 30 % of the width stays at 30 % of the crop), the whole
 * focal rectangle is kept when it fits, and the box never leaves the image. A crop
 * smaller than the target is not enlarged: the rendition is the crop itself, the
 * target's aspect ratio at a smaller size.
 */
function planFill(
  width: number,
  height: number,
  op: Extract<ResizeOperation, { op: 'fill' }>,
  focal: Rect | null,
): RenditionPlan {
  const aspect = op.width / op.height;
  const maxScale = Math.min(width, height * aspect);
  const maxW = maxScale;
  const maxH = maxScale / aspect;
  let boxW = maxW;
  let boxH = maxH;

  if (focal) {
    const minScale = Math.max(focal.right - focal.left, (focal.bottom - focal.top) * aspect);
    if (minScale < maxScale) {
      const minW = minScale;
      const minH = minScale / aspect;
      const noUpscale = Math.max(1 - (op.width - minW) / (maxW - minW), 1 - (op.height - minH) / (maxH - minH));
      const closeness = Math.min(op.closeness / 100, noUpscale);
      if (closeness >= 0 && closeness <= 1) {
        boxW = maxW + (minW - maxW) * closeness;
        boxH = maxH + (minH - maxH) * closeness;
      }
    }
  }

  const fx = focal ? (focal.left + focal.right) / 2 : width / 2;
  const fy = focal ? (focal.top + focal.bottom) / 2 : height / 2;
  const left = fx - (fx / width) * boxW;
  const top = fy - (fy / height) * boxH;
  let rect: Rect = { left, top, right: left + boxW, bottom: top + boxH };
  if (focal) rect = moveToCover(rect, focal);
  rect = moveInside(rect, width, height);

  // Whole pixels: the size is rounded, then the place. (Wagtail rounds the edges outwards,
  // which can add a pixel to one side and stretch the rendition slightly.)
  const cropW = Math.min(width, Math.max(1, Math.round(rect.right - rect.left)));
  const cropH = Math.min(height, Math.max(1, Math.round(rect.bottom - rect.top)));
  const crop = {
    left: Math.min(Math.max(0, Math.round(rect.left)), width - cropW),
    top: Math.min(Math.max(0, Math.round(rect.top)), height - cropH),
    width: cropW,
    height: cropH,
  };
  const isWhole = crop.left === 0 && crop.top === 0 && crop.width === width && crop.height === height;
  const wouldEnlarge = op.width >= crop.width || op.height >= crop.height;
  return {
    crop: isWhole ? null : crop,
    width: wouldEnlarge ? crop.width : op.width,
    height: wouldEnlarge ? crop.height : op.height,
  };
}

/** The focal rectangle, cut to the image and at least a pixel wide and high. */
function clampFocalPoint(fp: FocalPoint, width: number, height: number): Rect | null {
  if (![fp.x, fp.y, fp.width, fp.height].every(Number.isFinite)) return null;
  const w = Math.max(1, fp.width);
  const h = Math.max(1, fp.height);
  const left = Math.max(0, fp.x - w / 2);
  const top = Math.max(0, fp.y - h / 2);
  const right = Math.min(width, fp.x + w / 2);
  const bottom = Math.min(height, fp.y + h / 2);
  return right > left && bottom > top ? { left, top, right, bottom } : null;
}

/** Wagtail's Rect.move_to_cover: when the focal rectangle is wider than the crop, its right edge wins. */
function moveToCover(rect: Rect, target: Rect): Rect {
  let { left, top, right, bottom } = rect;
  if (left > target.left) { right -= left - target.left; left = target.left; }
  if (top > target.top) { bottom -= top - target.top; top = target.top; }
  if (right < target.right) { left += target.right - right; right = target.right; }
  if (bottom < target.bottom) { top += target.bottom - bottom; bottom = target.bottom; }
  return { left, top, right, bottom };
}

function moveInside(rect: Rect, width: number, height: number): Rect {
  const w = rect.right - rect.left;
  const h = rect.bottom - rect.top;
  const left = Math.min(Math.max(0, rect.left), width - w);
  const top = Math.min(Math.max(0, rect.top), height - h);
  return { left, top, right: left + w, bottom: top + h };
}
