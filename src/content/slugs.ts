import slugify from 'slugify';

export const SLUG_MAX_LENGTH = 255;
/** Letters and digits of any script, combining marks, `_` and `-` (Django's unicode slug). */
const VALID_SLUG = /^[\p{L}\p{N}\p{M}_-]+$/u;
/** What slugify must drop: everything but letters, digits, marks, whitespace, `_` and `-`. */
const REMOVE = /[^\p{L}\p{N}\p{M}\s_-]+/gu;

/**
 * slugify transliterates letters through its character map ("é" → "e", "ж" → "zh"),
 * which would rewrite words of other scripts. Letters map to themselves instead, so
 * every script is kept as written; symbols keep slugify's words ("&" → "and").
 */
slugify.extend(Object.fromEntries(
  Array.from({ length: 0x3000 - 0xc0 }, (_, i) => String.fromCharCode(0xc0 + i))
    .filter((ch) => /\p{L}/u.test(ch))
    .map((ch) => [ch, ch]),
));

/**
 * A slug from a title: letters of every script kept, lower-cased, punctuation dropped,
 * whitespace runs to `-`. "딥러닝 기초 1강: PyTorch로 시작하기" → "딥러닝-기초-1강-pytorch로-시작하기".
 * Never empty: a title with no letters or digits gives "page".
 */
export function slugFromTitle(title: string): string {
  const slug = slugify(title.normalize('NFC'), { lower: true, strict: false, trim: true, remove: REMOVE })
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  const cut = truncate(slug, SLUG_MAX_LENGTH - 8); // room for a "-NN" suffix
  return cut || 'page';
}

/** Why an explicit slug is not acceptable, or null when it is. */
export function slugProblem(slug: unknown): string | null {
  if (typeof slug !== 'string') return 'must be a string';
  if (slug.length === 0) return 'must not be empty';
  if (slug.length > SLUG_MAX_LENGTH) return `must be at most ${SLUG_MAX_LENGTH} characters`;
  if (slug !== slug.normalize('NFC')) return 'must be in Unicode normal form C';
  if (!VALID_SLUG.test(slug)) return 'may contain only letters, digits, underscores and hyphens';
  return null;
}

/** The first of `base`, `base-2`, `base-3`… that is not taken. */
export function uniqueSlug(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  // Cut on a code point boundary, then drop a dangling separator.
  return Array.from(s).slice(0, max).join('').replace(/[-_]+$/, '');
}
