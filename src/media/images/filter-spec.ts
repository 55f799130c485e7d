/**
 * Wagtail's image filter specs ("fill-800x450-c50|format-webp"), parsed strictly.
 * The operations and their meaning follow wagtail/images/image_operations.py; where
 * Wagtail is lenient (several resize operations, `scale-150`, `fill-10x10-c200`,
 * duplicate options where the last one wins) a spec is refused instead, because each
 * spec names a stored rendition and two spellings of one rendition waste storage.
 */

/** The formats Lectern accepts as originals and produces as renditions. */
export const IMAGE_FORMATS = ['avif', 'webp', 'jpeg', 'png', 'gif'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export const IMAGE_FORMAT_INFO: Readonly<Record<ImageFormat, { mime: string; extension: string }>> = {
  avif: { mime: 'image/avif', extension: 'avif' },
  webp: { mime: 'image/webp', extension: 'webp' },
  jpeg: { mime: 'image/jpeg', extension: 'jpg' },
  png: { mime: 'image/png', extension: 'png' },
  gif: { mime: 'image/gif', extension: 'gif' },
};

export type ResizeOperation =
  | { op: 'original' }
  | { op: 'width' | 'height'; size: number }
  | { op: 'max' | 'min'; width: number; height: number }
  /** `closeness` is the `-cNN` percentage, 0 when absent. */
  | { op: 'fill'; width: number; height: number; closeness: number }
  | { op: 'scale'; percent: number };

export interface FilterSpec {
  /** `{ op: 'original' }` when the spec has no resize operation. */
  resize: ResizeOperation;
  /** The `format-*` output format; null keeps the original's (see renderImage). */
  format: ImageFormat | null;
  /** `format-webp-lossless` / `format-avif-lossless`; wins over a quality option. */
  lossless: boolean;
  jpegQuality: number | null;
  webpQuality: number | null;
  avifQuality: number | null;
  /** `bgcolor-*` as `#rrggbb`: the colour transparent pixels are flattened onto. */
  background: string | null;
  /**
   * One spelling per rendition: the resize operation, then bgcolor, format, jpegquality,
   * webpquality, avifquality, joined by `|`; `-c0` and a redundant `original` dropped,
   * hex lower-cased. Use it as the cache key, together with the focal point for `fill`.
   */
  canonical: string;
  /** `canonical` with `.` for `|`, for file names: `fill-800x450-c50.format-webp`. */
  fileSafe: string;
}

export class FilterSpecError extends Error {
  override name = 'FilterSpecError';
  /** The offending `|`-separated part (the whole spec when it is empty or too long). */
  readonly part: string;

  constructor(message: string, part: string) {
    super(message);
    this.part = part;
  }
}

/** Wagtail's Rendition.filter_spec column is 255 characters long. */
export const FILTER_SPEC_MAX_LENGTH = 255;
export const MAX_DIMENSION = 10_000;

const RESIZE_OPS = new Set(['original', 'width', 'height', 'max', 'min', 'fill', 'scale']);
const OPTION_ORDER = ['bgcolor', 'format', 'jpegquality', 'webpquality', 'avifquality'] as const;
type OptionName = (typeof OPTION_ORDER)[number];
const OPTIONS = new Set<string>(OPTION_ORDER);
const LOSSLESS_FORMATS = new Set<ImageFormat>(['webp', 'avif']);
/** No sign, no leading zero, no decimals: one spelling per number. */
const INTEGER = /^(0|[1-9][0-9]{0,5})$/;
const HEX = /^([0-9a-f]{3}|[0-9a-f]{6})$/i;

export function parseFilterSpec(spec: string): FilterSpec {
  if (spec.length === 0) throw new FilterSpecError('empty filter spec', spec);
  if (spec.length > FILTER_SPEC_MAX_LENGTH) {
    throw new FilterSpecError(`filter spec is longer than ${FILTER_SPEC_MAX_LENGTH} characters`, spec);
  }

  let resize: { part: string; op: ResizeOperation } | null = null;
  const options = new Map<OptionName, string>();
  const result: Omit<FilterSpec, 'resize' | 'canonical' | 'fileSafe'> = {
    format: null, lossless: false, jpegQuality: null, webpQuality: null, avifQuality: null, background: null,
  };

  for (const part of spec.split('|')) {
    const fail = (message: string): never => { throw new FilterSpecError(message, part); };
    if (part === '') fail(`empty filter in "${spec}"`);
    const [name = '', ...args] = part.split('-');

    if (RESIZE_OPS.has(name)) {
      if (resize) fail(`only one resize operation is allowed, got "${resize.part}" and "${part}" in "${spec}"`);
      resize = { part, op: parseResize(name, args, part, fail) };
      continue;
    }
    if (!OPTIONS.has(name)) fail(`unknown filter "${name}" in "${spec}"`);
    const option = name as OptionName;
    if (options.has(option)) fail(`duplicate filter "${option}" in "${spec}"`);

    switch (option) {
      case 'format': {
        const [format, extra, ...rest] = args;
        if (!isImageFormat(format)) fail(`format must be one of ${IMAGE_FORMATS.join(', ')}, got "${part}"`);
        const lossless = extra === 'lossless';
        if ((extra !== undefined && !lossless) || rest.length > 0) fail(`format takes only a -lossless option, got "${part}"`);
        if (lossless && !LOSSLESS_FORMATS.has(format as ImageFormat)) fail(`only webp and avif can be lossless, got "${part}"`);
        result.format = format as ImageFormat;
        result.lossless = lossless;
        options.set(option, lossless ? `format-${format}-lossless` : `format-${format}`);
        break;
      }
      case 'bgcolor': {
        const hex = args.length === 1 ? args[0]! : '';
        if (!HEX.test(hex)) fail(`bgcolor needs a 3 or 6 digit hex colour without "#", got "${part}"`);
        const six = (hex.length === 3 ? hex.replace(/./g, (c) => c + c) : hex).toLowerCase();
        result.background = `#${six}`;
        options.set(option, `bgcolor-${six}`);
        break;
      }
      default: {
        const quality = args.length === 1 ? parseInteger(args[0]!) : null;
        if (quality === null || quality < 1 || quality > 100) fail(`${option} needs a quality from 1 to 100, got "${part}"`);
        const key = ({ jpegquality: 'jpegQuality', webpquality: 'webpQuality', avifquality: 'avifQuality' } as const)[option];
        result[key] = quality;
        options.set(option, `${option}-${quality}`);
      }
    }
  }

  const op = resize?.op ?? { op: 'original' as const };
  const parts = [resizeToString(op), ...OPTION_ORDER.flatMap((o) => options.get(o) ?? [])];
  // `original` is the absence of a resize: it only names a rendition that has nothing else.
  if (parts.length > 1 && parts[0] === 'original') parts.shift();
  const canonical = parts.join('|');
  return { resize: op, ...result, canonical, fileSafe: parts.join('.') };
}

function parseResize(name: string, args: string[], part: string, fail: (m: string) => never): ResizeOperation {
  switch (name) {
    case 'original':
      if (args.length > 0) fail(`original takes no argument, got "${part}"`);
      return { op: 'original' };
    case 'width':
    case 'height': {
      if (args.length !== 1) fail(`${name} needs a number of pixels, got "${part}"`);
      return { op: name, size: dimension(args[0]!, name, part, fail) };
    }
    case 'scale': {
      const percent = args.length === 1 ? parseInteger(args[0]!) : null;
      if (percent === null || percent < 1 || percent > 100) {
        fail(`scale needs a whole percentage from 1 to 100 (images are never enlarged), got "${part}"`);
      }
      return { op: 'scale', percent: percent! };
    }
    case 'max':
    case 'min':
    case 'fill': {
      const [size = '', ...extra] = args;
      const match = /^([^x]*)x([^x]*)$/.exec(size);
      if (!match) fail(`${name} needs WIDTHxHEIGHT, got "${part}"`);
      const width = dimension(match![1]!, name, part, fail);
      const height = dimension(match![2]!, name, part, fail);
      if (name !== 'fill') {
        if (extra.length > 0) fail(`${name} takes only WIDTHxHEIGHT, got "${part}"`);
        return { op: name, width, height };
      }
      if (extra.length > 1 || (extra.length === 1 && !extra[0]!.startsWith('c'))) {
        fail(`fill takes only a -cNN closeness after WIDTHxHEIGHT, got "${part}"`);
      }
      const closeness = extra.length === 1 ? parseInteger(extra[0]!.slice(1)) : 0;
      if (closeness === null || closeness > 100) fail(`fill closeness must be c0 to c100, got "${part}"`);
      return { op: 'fill', width, height, closeness: closeness! };
    }
    default:
      return fail(`unknown filter "${name}"`);
  }
}

function dimension(text: string, name: string, part: string, fail: (m: string) => never): number {
  const n = parseInteger(text);
  if (n === null || n < 1 || n > MAX_DIMENSION) {
    fail(`${name} dimensions must be whole numbers from 1 to ${MAX_DIMENSION}, got "${part}"`);
  }
  return n!;
}

function parseInteger(text: string): number | null {
  return INTEGER.test(text) ? Number(text) : null;
}

function isImageFormat(value: unknown): value is ImageFormat {
  return (IMAGE_FORMATS as readonly unknown[]).includes(value);
}

function resizeToString(op: ResizeOperation): string {
  switch (op.op) {
    case 'original': return 'original';
    case 'width':
    case 'height': return `${op.op}-${op.size}`;
    case 'scale': return `scale-${op.percent}`;
    case 'max':
    case 'min': return `${op.op}-${op.width}x${op.height}`;
    case 'fill': return `fill-${op.width}x${op.height}${op.closeness > 0 ? `-c${op.closeness}` : ''}`;
  }
}
