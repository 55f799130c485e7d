/**
 * git's indent heuristic (xdiffi.c, on by default since git 2.14): when a group of
 * added or deleted lines can slide, pick the position whose two split points look most
 * like block boundaries — judged by indentation and blank lines — so that a block
 * inserted into pretty-printed JSON starts at its `{` rather than in the middle of its
 * neighbour. The constants are git's.
 */
const MAX_INDENT = 200;
const MAX_BLANKS = 20;
const START_OF_FILE_PENALTY = 1;
const END_OF_FILE_PENALTY = 21;
const TOTAL_BLANK_WEIGHT = -30;
const POST_BLANK_WEIGHT = 6;
const RELATIVE_INDENT_PENALTY = -4;
const RELATIVE_INDENT_WITH_BLANK_PENALTY = 10;
const RELATIVE_OUTDENT_PENALTY = 24;
const RELATIVE_OUTDENT_WITH_BLANK_PENALTY = 17;
const RELATIVE_DEDENT_PENALTY = 23;
const RELATIVE_DEDENT_WITH_BLANK_PENALTY = 17;
const INDENT_WEIGHT = 60;
export const INDENT_HEURISTIC_MAX_SLIDING = 100;

/** A line's indentation (tabs to multiples of 8), or -1 for a line of only whitespace. */
export function lineIndent(line: string): number {
  let ret = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r' && c !== '\f' && c !== '\v') return ret;
    if (c === ' ') ret += 1;
    else if (c === '\t') ret += 8 - (ret % 8);
    if (ret >= MAX_INDENT) return MAX_INDENT;
  }
  return -1;
}

interface Score {
  effectiveIndent: number;
  penalty: number;
}

/** Adds the badness of splitting the file (with line indents `indents`) before line `split`. */
function addSplit(indents: ArrayLike<number>, split: number, s: Score): void {
  const n = indents.length;
  const endOfFile = split >= n;
  const indentAt = endOfFile ? -1 : indents[split]!;
  let preBlank = 0;
  let preIndent = -1;
  for (let i = split - 1; i >= 0; i--) {
    preIndent = indents[i]!;
    if (preIndent !== -1) break;
    preBlank += 1;
    if (preBlank === MAX_BLANKS) { preIndent = 0; break; }
  }
  let postBlankRun = 0;
  let postIndent = -1;
  for (let i = split + 1; i < n; i++) {
    postIndent = indents[i]!;
    if (postIndent !== -1) break;
    postBlankRun += 1;
    if (postBlankRun === MAX_BLANKS) { postIndent = 0; break; }
  }

  if (preIndent === -1 && preBlank === 0) s.penalty += START_OF_FILE_PENALTY;
  if (endOfFile) s.penalty += END_OF_FILE_PENALTY;
  const postBlank = indentAt === -1 ? 1 + postBlankRun : 0;
  const totalBlank = preBlank + postBlank;
  s.penalty += TOTAL_BLANK_WEIGHT * totalBlank;
  s.penalty += POST_BLANK_WEIGHT * postBlank;
  const indent = indentAt !== -1 ? indentAt : postIndent;
  const anyBlanks = totalBlank !== 0;
  s.effectiveIndent += indent;
  if (indent === -1 || preIndent === -1) return;
  if (indent > preIndent) {
    s.penalty += anyBlanks ? RELATIVE_INDENT_WITH_BLANK_PENALTY : RELATIVE_INDENT_PENALTY;
  } else if (indent < preIndent) {
    if (postIndent !== -1 && postIndent > indent) s.penalty += anyBlanks ? RELATIVE_OUTDENT_WITH_BLANK_PENALTY : RELATIVE_OUTDENT_PENALTY;
    else s.penalty += anyBlanks ? RELATIVE_DEDENT_WITH_BLANK_PENALTY : RELATIVE_DEDENT_PENALTY;
  }
}

const compare = (a: Score, b: Score) =>
  INDENT_WEIGHT * (Number(a.effectiveIndent > b.effectiveIndent) - Number(a.effectiveIndent < b.effectiveIndent)) + (a.penalty - b.penalty);

/**
 * The best end for a group of `size` changed lines that can end anywhere from
 * `earliestEnd` to `end` (it is at `end` now): git's choice, ties going to the lowest.
 */
export function bestGroupEnd(indents: ArrayLike<number>, earliestEnd: number, end: number, size: number): number {
  let shift = Math.max(earliestEnd, end - size - 1, end - INDENT_HEURISTIC_MAX_SLIDING);
  let best = -1;
  let bestScore: Score = { effectiveIndent: 0, penalty: 0 };
  for (; shift <= end; shift++) {
    const score: Score = { effectiveIndent: 0, penalty: 0 };
    addSplit(indents, shift, score);
    addSplit(indents, shift - size, score);
    if (best === -1 || compare(score, bestScore) <= 0) {
      bestScore = score;
      best = shift;
    }
  }
  return best;
}
