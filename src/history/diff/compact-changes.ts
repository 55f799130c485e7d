import { bestGroupEnd } from './indent-heuristic.js';
import type { ChangeMarks } from './xdiff.js';

/** A run of changed elements [start, end); empty (start === end) between two unchanged ones. */
interface Group {
  start: number;
  end: number;
}

/**
 * Slides groups of changed lines the way git does (xdl_change_compact), so that an
 * ambiguous edit, such as a block inserted into a pretty-printed stream whose `},` and
 * `{` lines repeat, is placed where `git diff` places it: each group goes as far down
 * as it can, then back up to line up with a change on the other side if one was passed
 * on the way, or else (given the lines' indents) to where git's indent heuristic puts
 * it. Groups that touch merge.
 */
export function compactChanges(a: Int32Array, b: Int32Array, marks: ChangeMarks, indents?: { a: ArrayLike<number>; b: ArrayLike<number> }): void {
  compactSide(a, marks.changedA, marks.changedB, indents?.a);
  compactSide(b, marks.changedB, marks.changedA, indents?.b);
}

const isChanged = (changed: Uint8Array, i: number) => i >= 0 && i < changed.length && changed[i] === 1;

function firstGroup(changed: Uint8Array): Group {
  const g = { start: 0, end: 0 };
  while (isChanged(changed, g.end)) g.end++;
  return g;
}

function nextGroup(changed: Uint8Array, g: Group): boolean {
  if (g.end === changed.length) return false;
  g.start = g.end + 1;
  g.end = g.start;
  while (isChanged(changed, g.end)) g.end++;
  return true;
}

function previousGroup(changed: Uint8Array, g: Group): boolean {
  if (g.start === 0) return false;
  g.end = g.start - 1;
  g.start = g.end;
  while (isChanged(changed, g.start - 1)) g.start--;
  return true;
}

/** Moves the group one line down when its first line equals the line after it. */
function slideDown(recs: Int32Array, changed: Uint8Array, g: Group): boolean {
  if (g.end >= changed.length || recs[g.start] !== recs[g.end]) return false;
  changed[g.start++] = 0;
  changed[g.end++] = 1;
  while (isChanged(changed, g.end)) g.end++;
  return true;
}

/** Moves the group one line up when its last line equals the line before it. */
function slideUp(recs: Int32Array, changed: Uint8Array, g: Group): boolean {
  if (g.start <= 0 || recs[g.start - 1] !== recs[g.end - 1]) return false;
  changed[--g.start] = 1;
  changed[--g.end] = 0;
  while (isChanged(changed, g.start - 1)) g.start--;
  return true;
}

function compactSide(recs: Int32Array, changed: Uint8Array, other: Uint8Array, indents: ArrayLike<number> | undefined): void {
  const g = firstGroup(changed);
  const go = firstGroup(other);
  for (;;) {
    if (g.end !== g.start) {
      let size: number;
      let earliestEnd: number;
      let endMatchingOther: number;
      do {
        size = g.end - g.start;
        endMatchingOther = -1;
        while (slideUp(recs, changed, g)) previousGroup(other, go);
        earliestEnd = g.end;
        if (go.end > go.start) endMatchingOther = g.end;
        while (slideDown(recs, changed, g)) {
          nextGroup(other, go);
          if (go.end > go.start) endMatchingOther = g.end;
        }
      } while (size !== g.end - g.start);
      if (g.end === earliestEnd) {
        // It cannot slide.
      } else if (endMatchingOther !== -1) {
        while (go.end === go.start) {
          if (!slideUp(recs, changed, g) || !previousGroup(other, go)) break;
        }
      } else if (indents) {
        const best = bestGroupEnd(indents, earliestEnd, g.end, g.end - g.start);
        while (g.end > best) {
          if (!slideUp(recs, changed, g) || !previousGroup(other, go)) break;
        }
      }
    }
    if (!nextGroup(changed, g) || !nextGroup(other, go)) break;
  }
}
