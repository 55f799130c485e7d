import type { ChangeMarks } from './xdiff.js';

/** A maximal run of one kind of edit: [aStart, aEnd) in the old sequence, [bStart, bEnd) in the new. */
export interface EditRun {
  op: 'eq' | 'del' | 'ins';
  aStart: number;
  aEnd: number;
  bStart: number;
  bEnd: number;
}

/** Reads change marks as alternating runs; within a change, deletions come before insertions. */
export function editRuns(marks: ChangeMarks): EditRun[] {
  const { changedA, changedB } = marks;
  const n = changedA.length;
  const m = changedB.length;
  const runs: EditRun[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && (changedA[i] === 1 || j >= m)) {
      const start = i;
      while (i < n && (changedA[i] === 1 || j >= m)) i++;
      runs.push({ op: 'del', aStart: start, aEnd: i, bStart: j, bEnd: j });
    } else if (j < m && (changedB[j] === 1 || i >= n)) {
      const start = j;
      while (j < m && (changedB[j] === 1 || i >= n)) j++;
      runs.push({ op: 'ins', aStart: i, aEnd: i, bStart: start, bEnd: j });
    } else {
      const aStart = i;
      const bStart = j;
      while (i < n && j < m && changedA[i] === 0 && changedB[j] === 0) { i++; j++; }
      runs.push({ op: 'eq', aStart, aEnd: i, bStart, bEnd: j });
    }
  }
  return runs;
}
