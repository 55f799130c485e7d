import type { Hunk } from '../../generated/schema-types.js';
import { editRuns, type EditRun } from './edit-runs.js';
import { lineIndent } from './indent-heuristic.js';
import { internTokens } from './intern-tokens.js';
import { xdiff } from './xdiff.js';

/** Line diff as git makes it; `a` and `b` are whatever the caller calls a line (with or without its newline). */
export function lineEditRuns(a: readonly string[], b: readonly string[]): EditRun[] {
  const [ia, ib] = internTokens(a, b);
  // Lines get git's indent heuristic, as `git diff` does by default.
  return editRuns(xdiff(ia, ib, { a: a.map(lineIndent), b: b.map(lineIndent) }));
}

/** Lines as a code change shows them: split at "\n", so joining with "\n" gives the text back. */
export function splitLines(text: string): string[] {
  return text === '' ? [] : text.split('\n');
}

/** Line hunks covering the whole of both texts, unchanged runs included. */
export function lineDiff(before: string, after: string): Hunk[] {
  const a = splitLines(before);
  const b = splitLines(after);
  return lineEditRuns(a, b).map((run) => ({
    op: run.op,
    lines: run.op === 'ins' ? b.slice(run.bStart, run.bEnd) : a.slice(run.aStart, run.aEnd),
  }));
}
