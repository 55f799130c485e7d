import sharp, { type Metadata } from 'sharp';
import { IMAGE_FORMAT_INFO, type ImageFormat } from './filter-spec.js';

export type ImageRejectedReason = 'empty' | 'not-an-image' | 'unsupported-format' | 'svg' | 'corrupt' | 'too-many-pixels';

export class ImageRejectedError extends Error {
  override name = 'ImageRejectedError';
  readonly reason: ImageRejectedReason;

  constructor(reason: ImageRejectedReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface ProbedImage {
  format: ImageFormat;
  mime: string;
  extension: string;
  /** As displayed: after the EXIF orientation is applied. Of the first frame when animated. */
  width: number;
  height: number;
  /** 1 for a still image; the frame count of an animated GIF or WebP. */
  frames: number;
}

/**
 * Sharp's default (`warning`) refuses the harmless libjpeg warnings many cameras' files
 * raise; `error` still refuses truncated and broken pixel data, which is what matters.
 */
export const DECODE_FAIL_ON = 'error' as const;

const ACCEPTED = 'upload a PNG, JPEG, WebP, GIF or AVIF image';

/**
 * What an uploaded file is, judged by its bytes alone (never by a name or a declared
 * type). The format is sniffed before any decoder runs, so SVG and formats we do not
 * serve never reach librsvg or the TIFF/HEIF decoders; the pixel count is checked from
 * the header before decoding; then every pixel is decoded once, so a truncated or
 * damaged file is refused at upload instead of failing later in a rendition.
 */
export async function probeImage(bytes: Buffer, opts: { maxPixels: number }): Promise<ProbedImage> {
  if (bytes.length === 0) throw new ImageRejectedError('empty', 'the file is empty');

  const sniffed = sniffFormat(bytes);
  if (sniffed === 'svg') {
    throw new ImageRejectedError('svg', `SVG images are not accepted (they can carry scripts); ${ACCEPTED}`);
  }
  if (sniffed === null) throw new ImageRejectedError('not-an-image', `the file is not an image; ${ACCEPTED}`);
  if (!isAccepted(sniffed)) {
    throw new ImageRejectedError('unsupported-format', `${sniffed.other} images are not supported; ${ACCEPTED}`);
  }
  const format = sniffed;

  let meta: Metadata;
  try {
    // The header only: the pixel limit is ours to check, with a clearer message than sharp's.
    meta = await sharp(bytes, { failOn: DECODE_FAIL_ON, limitInputPixels: false }).metadata();
  } catch {
    throw corrupt(format);
  }
  if (format === 'avif' && meta.compression !== 'av1') {
    // An AVIF brand on a HEVC-coded HEIF: a HEIC in disguise.
    throw new ImageRejectedError('unsupported-format', `HEIC images are not supported; ${ACCEPTED}`);
  }
  if (decoderFormat(format) !== meta.format || !(meta.width > 0 && meta.height > 0)) throw corrupt(format);

  // Without `pages`, sharp reports one frame's size: that is what a rendition decodes at least.
  const pixels = meta.width * meta.height;
  if (pixels > opts.maxPixels) {
    throw new ImageRejectedError(
      'too-many-pixels',
      `the image is ${meta.width}×${meta.height} pixels (${pixels}); at most ${opts.maxPixels} pixels are accepted`,
    );
  }

  const frames = Math.max(1, meta.pages ?? 1);
  try {
    // stats() reads every pixel without keeping a decoded copy. All frames when they fit
    // the pixel budget (renditions keep the animation then), else the first one only.
    const animated = frames > 1 && pixels * frames <= opts.maxPixels;
    await sharp(bytes, { failOn: DECODE_FAIL_ON, limitInputPixels: opts.maxPixels, animated }).stats();
  } catch {
    throw corrupt(format);
  }

  const { width, height } = meta.autoOrient;
  return { format, ...IMAGE_FORMAT_INFO[format], width, height, frames };
}

function corrupt(format: ImageFormat): ImageRejectedError {
  return new ImageRejectedError('corrupt', `the ${format.toUpperCase()} file is truncated or damaged and cannot be decoded`);
}

/** Sharp reports AVIF as its container, HEIF. */
function decoderFormat(format: ImageFormat): string {
  return format === 'avif' ? 'heif' : format;
}

type Sniffed = ImageFormat | 'svg' | { other: string } | null;

function isAccepted(sniffed: Exclude<Sniffed, 'svg' | null>): sniffed is ImageFormat {
  return typeof sniffed === 'string';
}

/** Magic numbers of images we refuse by name, so the uploader learns what was wrong. */
const OTHER_SIGNATURES: [string, (b: Buffer) => boolean][] = [
  ['TIFF', (b) => startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])],
  ['BMP', (b) => ascii(b, 0, 2) === 'BM' && b.length >= 18 && [12, 40, 52, 56, 64, 108, 124].includes(b.readUInt32LE(14))],
  ['ICO', (b) => startsWith(b, [0x00, 0x00, 0x01, 0x00]) && b.length >= 22],
  ['Photoshop', (b) => ascii(b, 0, 4) === '8BPS'],
  ['JPEG XL', (b) => startsWith(b, [0xff, 0x0a]) || ascii(b, 4, 8) === 'JXL '],
  ['JPEG 2000', (b) => ascii(b, 4, 8) === 'jP  '],
];

function sniffFormat(b: Buffer): Sniffed {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return 'webp';
  const brands = isoBrands(b);
  if (brands) {
    if (brands.includes('avif') || brands.includes('avis')) return 'avif';
    if (brands.some((brand) => ['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1'].includes(brand))) {
      return { other: 'HEIC' };
    }
  }
  for (const [name, test] of OTHER_SIGNATURES) if (test(b)) return { other: name };
  if (looksLikeSvg(b)) return 'svg';
  return null;
}

/** The major and compatible brands of an ISO-BMFF `ftyp` box (HEIF, AVIF, MP4…). */
function isoBrands(b: Buffer): string[] | null {
  if (b.length < 16 || ascii(b, 4, 8) !== 'ftyp') return null;
  const size = Math.min(b.readUInt32BE(0), b.length);
  const brands = [ascii(b, 8, 12)];
  for (let at = 16; at + 4 <= size; at += 4) brands.push(ascii(b, at, at + 4));
  return brands;
}

/**
 * An `<svg` root after an optional BOM, XML declaration, comments and doctype. Any
 * decoder-free test will do: SVG is refused whatever its shape, and text that is not
 * SVG is not an image either.
 */
function looksLikeSvg(b: Buffer): boolean {
  const head = b.subarray(0, 4096).toString('utf8').replace(/^\uFEFF/, '');
  const rest = head.replace(/^(\s+|<\?xml[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^[>]*(\[[\s\S]*?\])?\s*>)*/i, '');
  return /^<([\w.-]+:)?svg[\s>/]/i.test(rest);
}

function startsWith(b: Buffer, bytes: number[]): boolean {
  return b.length >= bytes.length && bytes.every((byte, i) => b[i] === byte);
}

function ascii(b: Buffer, start: number, end: number): string {
  return b.length >= end ? b.toString('latin1', start, end) : '';
}
