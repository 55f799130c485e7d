import type { Segment } from '../../generated/schema-types.js';
import { editRuns } from './edit-runs.js';
import { internTokens } from './intern-tokens.js';
import { xdiff } from './xdiff.js';

// Word boundaries per Unicode (UAX #29) with ICU's dictionaries: Korean splits at
// spaces, Chinese, Japanese and Thai at dictionary words, and no token ever ends
// inside a grapheme. The locale is fixed so that a diff does not depend on the host.
const segmenter = new Intl.Segmenter('und', { granularity: 'word' });
const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });

/**
 * V8's segment iterator slows down with the length of the string (quadratically: 20,000
 * words take 0.7 s, 80,000 take a minute), so long texts are segmented in pieces of
 * about CHUNK characters, cut where a word boundary is certain.
 */
const CHUNK = 1000;

/** Words, whitespace runs and punctuation marks: joined, they give the text back. */
export function wordTokens(text: string): string[] {
  const out: string[] = [];
  for (let start = 0; start < text.length;) {
    const end = text.length - start <= 2 * CHUNK ? text.length : pieceEnd(text, start, start + CHUNK);
    for (const s of segmenter.segment(text.slice(start, end))) out.push(s.segment);
    start = end;
  }
  return out;
}

const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/**
 * Where an ASCII whitespace run starts after a non-space: always a word boundary (UAX
 * #29 joins nothing across it), so the text after it segments as it would in the whole.
 */
const certainBoundary = (text: string, i: number) => isSpace(text.charCodeAt(i)) && !isSpace(text.charCodeAt(i - 1));

/** Ideographic punctuation (Word_Break=Other): a boundary in text without spaces, such as Chinese. */
const IDEOGRAPHIC_STOP = /[\u3001\u3002\uff01\uff0c\uff1a\uff1b\uff1f]/;

/** Where the piece that begins at `start` (a boundary) ends: the first safe cut from `from` on. */
function pieceEnd(text: string, start: number, from: number): number {
  const limit = Math.min(text.length, from + CHUNK);
  for (let i = from; i < limit; i++) if (certainBoundary(text, i)) return i;
  for (let i = from; i < limit; i++) if (IDEOGRAPHIC_STOP.test(text[i - 1] as string) && !/[\p{M}\u200d\ufe0f]/u.test(text[i] as string)) return i;
  // A thousand characters with neither: at least never cut a grapheme. The window
  // starts well before `from` so that it does not start inside the cluster to find.
  const windowStart = Math.max(start, from - 64);
  for (const g of graphemes.segment(text.slice(windowStart, from + 64))) if (windowStart + g.index >= from) return windowStart + g.index;
  return Math.min(text.length, from + 64);
}

const WHITESPACE = /^\s+$/u;

/**
 * Word-level diff: joining the eq and del segments gives `before`, eq and ins gives
 * `after`. Within one change, the deletion comes before the insertion. A run of
 * whitespace that is all that separates two changes is folded into them, so that
 * "quick brown" → "slow red" reads as one replacement, not two with a kept space.
 */
export function wordDiff(before: string, after: string): Segment[] {
  if (before === after) return before === '' ? [] : [{ op: 'eq', text: before }];
  const [a, b] = changedTokens(before, after);
  const [ia, ib] = internTokens(a, b);
  const runs = editRuns(xdiff(ia, ib));
  const out: Segment[] = [];
  let del = '';
  let ins = '';
  const flush = () => {
    if (del) out.push({ op: 'del', text: del });
    if (ins) out.push({ op: 'ins', text: ins });
    del = '';
    ins = '';
  };
  runs.forEach((run, r) => {
    if (run.op === 'del') del += a.slice(run.aStart, run.aEnd).join('');
    else if (run.op === 'ins') ins += b.slice(run.bStart, run.bEnd).join('');
    else {
      const text = a.slice(run.aStart, run.aEnd).join('');
      if (r > 0 && r < runs.length - 1 && WHITESPACE.test(text)) {
        del += text;
        ins += text;
        return;
      }
      flush();
      out.push({ op: 'eq', text });
    }
  });
  flush();
  return out;
}

/**
 * The tokens of both texts, with the unchanged head and tail each kept as one token:
 * segmenting is the costly step, so only the part between them is segmented. They are
 * cut at certain word boundaries, so the middle segments as it would in the whole text.
 */
function changedTokens(before: string, after: string): [string[], string[]] {
  const max = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < max && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < max - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  // The cut and the character before it must be common to both texts.
  let head = Math.max(prefix - 1, 0);
  while (head > 0 && !certainBoundary(before, head)) head--;
  let tail = Math.max(suffix - 1, 0);
  while (tail > 0 && !certainBoundary(before, before.length - tail)) tail--;
  const split = (text: string) => {
    const tokens = head > 0 ? [text.slice(0, head)] : [];
    for (const t of wordTokens(text.slice(head, text.length - tail))) tokens.push(t);
    if (tail > 0) tokens.push(text.slice(text.length - tail));
    return tokens;
  };
  return [split(before), split(after)];
}
