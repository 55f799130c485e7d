import { compactChanges } from './compact-changes.js';

/** Which elements of each sequence are not part of the common subsequence. */
export interface ChangeMarks {
  /** 1 where a[i] was deleted. */
  changedA: Uint8Array;
  /** 1 where b[j] was inserted. */
  changedB: Uint8Array;
}

// git's xdiff constants (xdiffi.c, xprepare.c).
const MAX_COST_MIN = 256;
const HEUR_MIN_COST = 256;
const SNAKE_CNT = 20;
const K_HEUR = 4;
const MAX_EQLIMIT = 1024;
const SIMSCAN_WINDOW = 100;
const KPDIS_RUN = 4;
const LINE_MAX = 0x7fffffff;

/**
 * The diff git computes by default (Myers; for lines with git's indent heuristic), as change
 * marks over two sequences of interned tokens, so that `git diff` and our patches and
 * code hunks agree even where several shortest scripts exist:
 * - the common prefix and suffix are set aside;
 * - tokens absent from the other side, and frequent ones amid such runs, are marked
 *   changed up front and left out of the search (xdl_cleanup_records);
 * - the middle-snake bisection with git's tie-breaking, and its cut-offs that trade a
 *   minimal script for bounded time on large rewrites (cost above ~√N);
 * - then git's sliding of ambiguous change groups (compactChanges).
 * It serves words as well as lines: the cut-offs keep a rewrite of a long text fast.
 */
export function xdiff(a: Int32Array, b: Int32Array, indents?: { a: ArrayLike<number>; b: ArrayLike<number> }): ChangeMarks {
  const n1 = a.length;
  const n2 = b.length;
  const marks: ChangeMarks = { changedA: new Uint8Array(n1), changedB: new Uint8Array(n2) };

  let start = 0;
  const lim = Math.min(n1, n2);
  while (start < lim && a[start] === b[start]) start++;
  let tail = 0;
  while (tail < lim - start && a[n1 - 1 - tail] === b[n2 - 1 - tail]) tail++;

  let classes = 0;
  for (const v of a) if (v >= classes) classes = v + 1;
  for (const v of b) if (v >= classes) classes = v + 1;
  const inA = new Int32Array(classes);
  const inB = new Int32Array(classes);
  for (const v of a) inA[v] = (inA[v] as number) + 1;
  for (const v of b) inB[v] = (inB[v] as number) + 1;

  const keptA = keptRecords(a, start, n1 - tail - 1, inB, marks.changedA);
  const keptB = keptRecords(b, start, n2 - tail - 1, inA, marks.changedB);
  const search = new Search(a, keptA, b, keptB, marks);
  search.compare(0, keptA.length, 0, keptB.length, false);
  compactChanges(a, b, marks, indents);
  return marks;
}

function bogoSqrt(n: number): number {
  let i = 1;
  for (let m = n; m > 0; m = Math.floor(m / 4)) i *= 2;
  return i;
}

/**
 * The indices in [dstart, dend] that take part in the search. A record with no match
 * on the other side is changed outright; one with many matches is too when it sits in
 * a run dominated by unmatched records.
 */
function keptRecords(recs: Int32Array, dstart: number, dend: number, inOther: Int32Array, changed: Uint8Array): Int32Array {
  const mlim = Math.min(bogoSqrt(recs.length), MAX_EQLIMIT);
  const dis = new Uint8Array(recs.length + 1);
  for (let i = dstart; i <= dend; i++) {
    const nm = Math.min(inOther[recs[i] as number] as number, mlim);
    dis[i] = nm === 0 ? 0 : nm >= mlim ? 2 : 1;
  }
  const kept: number[] = [];
  for (let i = dstart; i <= dend; i++) {
    if (dis[i] === 1 || (dis[i] === 2 && !discardMultimatch(dis, i, dstart, dend))) kept.push(i);
    else changed[i] = 1;
  }
  return Int32Array.from(kept);
}

function discardMultimatch(dis: Uint8Array, i: number, s: number, e: number): boolean {
  if (i - s > SIMSCAN_WINDOW) s = i - SIMSCAN_WINDOW;
  if (e - i > SIMSCAN_WINDOW) e = i + SIMSCAN_WINDOW;
  let noMatchBefore = 0;
  let multiBefore = 1;
  for (let r = 1; i - r >= s; r++) {
    if (dis[i - r] === 0) noMatchBefore++;
    else if (dis[i - r] === 2) multiBefore++;
    else break;
  }
  if (noMatchBefore === 0) return false;
  let noMatchAfter = 0;
  let multiAfter = 1;
  for (let r = 1; i + r <= e; r++) {
    if (dis[i + r] === 0) noMatchAfter++;
    else if (dis[i + r] === 2) multiAfter++;
    else break;
  }
  if (noMatchAfter === 0) return false;
  const multi = multiBefore + multiAfter;
  return multi * KPDIS_RUN < multi + noMatchBefore + noMatchAfter;
}

interface Split { i1: number; i2: number; minLo: boolean; minHi: boolean }

/** xdl_recs_cmp / xdl_split over the kept records (h1, h2 are their token ids). */
class Search {
  private readonly h1: Int32Array;
  private readonly h2: Int32Array;
  private readonly kvdf: Int32Array;
  private readonly kvdb: Int32Array;
  /** Index of diagonal 0 in kvdf/kvdb (diagonals run from -nreff2-1 to nreff1+1). */
  private readonly zero: number;
  private readonly maxCost: number;

  constructor(a: Int32Array, private readonly keptA: Int32Array, b: Int32Array, private readonly keptB: Int32Array, private readonly marks: ChangeMarks) {
    this.h1 = keptA.map((i) => a[i] as number);
    this.h2 = keptB.map((i) => b[i] as number);
    const ndiags = keptA.length + keptB.length + 3;
    this.kvdf = new Int32Array(ndiags);
    this.kvdb = new Int32Array(ndiags);
    this.zero = keptB.length + 1;
    this.maxCost = Math.max(bogoSqrt(ndiags), MAX_COST_MIN);
  }

  compare(off1: number, lim1: number, off2: number, lim2: number, needMin: boolean): void {
    const { h1, h2 } = this;
    while (off1 < lim1 && off2 < lim2 && h1[off1] === h2[off2]) { off1++; off2++; }
    while (off1 < lim1 && off2 < lim2 && h1[lim1 - 1] === h2[lim2 - 1]) { lim1--; lim2--; }
    if (off1 === lim1) {
      for (; off2 < lim2; off2++) this.marks.changedB[this.keptB[off2] as number] = 1;
    } else if (off2 === lim2) {
      for (; off1 < lim1; off1++) this.marks.changedA[this.keptA[off1] as number] = 1;
    } else {
      const spl = this.split(off1, lim1, off2, lim2, needMin);
      this.compare(off1, spl.i1, off2, spl.i2, spl.minLo);
      this.compare(spl.i1, lim1, spl.i2, lim2, spl.minHi);
    }
  }

  private split(off1: number, lim1: number, off2: number, lim2: number, needMin: boolean): Split {
    const { h1, h2, kvdf, kvdb, zero: z } = this;
    const dmin = off1 - lim2;
    const dmax = lim1 - off2;
    const fmid = off1 - off2;
    const bmid = lim1 - lim2;
    const odd = ((fmid - bmid) & 1) !== 0;
    let fmin = fmid; let fmax = fmid; let bmin = bmid; let bmax = bmid;
    kvdf[z + fmid] = off1;
    kvdb[z + bmid] = lim1;
    const f = (d: number) => kvdf[z + d] as number;
    const bk = (d: number) => kvdb[z + d] as number;

    for (let ec = 1; ; ec++) {
      let gotSnake = false;
      if (fmin > dmin) kvdf[z + --fmin - 1] = -1; else ++fmin;
      if (fmax < dmax) kvdf[z + ++fmax + 1] = -1; else --fmax;
      for (let d = fmax; d >= fmin; d -= 2) {
        let i1 = f(d - 1) >= f(d + 1) ? f(d - 1) + 1 : f(d + 1);
        const prev1 = i1;
        let i2 = i1 - d;
        while (i1 < lim1 && i2 < lim2 && h1[i1] === h2[i2]) { i1++; i2++; }
        if (i1 - prev1 > SNAKE_CNT) gotSnake = true;
        kvdf[z + d] = i1;
        if (odd && bmin <= d && d <= bmax && bk(d) <= i1) return { i1, i2, minLo: true, minHi: true };
      }

      if (bmin > dmin) kvdb[z + --bmin - 1] = LINE_MAX; else ++bmin;
      if (bmax < dmax) kvdb[z + ++bmax + 1] = LINE_MAX; else --bmax;
      for (let d = bmax; d >= bmin; d -= 2) {
        let i1 = bk(d - 1) < bk(d + 1) ? bk(d - 1) : bk(d + 1) - 1;
        const prev1 = i1;
        let i2 = i1 - d;
        while (i1 > off1 && i2 > off2 && h1[i1 - 1] === h2[i2 - 1]) { i1--; i2--; }
        if (prev1 - i1 > SNAKE_CNT) gotSnake = true;
        kvdb[z + d] = i1;
        if (!odd && fmin <= d && d <= fmax && i1 <= f(d)) return { i1, i2, minLo: true, minHi: true };
      }

      if (needMin) continue;

      // Past the heuristic threshold, a diagonal far along with a long snake behind it is good enough.
      if (gotSnake && ec > HEUR_MIN_COST) {
        let best = 0;
        let spl: Split | null = null;
        for (let d = fmax; d >= fmin; d -= 2) {
          const dd = d > fmid ? d - fmid : fmid - d;
          const i1 = f(d);
          const i2 = i1 - d;
          const v = (i1 - off1) + (i2 - off2) - dd;
          if (v > K_HEUR * ec && v > best && off1 + SNAKE_CNT <= i1 && i1 < lim1 && off2 + SNAKE_CNT <= i2 && i2 < lim2) {
            for (let k = 1; h1[i1 - k] === h2[i2 - k]; k++) {
              if (k === SNAKE_CNT) { best = v; spl = { i1, i2, minLo: true, minHi: false }; break; }
            }
          }
        }
        if (spl) return spl;
        best = 0;
        for (let d = bmax; d >= bmin; d -= 2) {
          const dd = d > bmid ? d - bmid : bmid - d;
          const i1 = bk(d);
          const i2 = i1 - d;
          const v = (lim1 - i1) + (lim2 - i2) - dd;
          if (v > K_HEUR * ec && v > best && off1 < i1 && i1 <= lim1 - SNAKE_CNT && off2 < i2 && i2 <= lim2 - SNAKE_CNT) {
            for (let k = 0; h1[i1 + k] === h2[i2 + k]; k++) {
              if (k === SNAKE_CNT - 1) { best = v; spl = { i1, i2, minLo: false, minHi: true }; break; }
            }
          }
        }
        if (spl) return spl;
      }

      // Enough: take the furthest-reaching path of either search.
      if (ec >= this.maxCost) {
        let fbest = -1; let fbest1 = -1;
        for (let d = fmax; d >= fmin; d -= 2) {
          let i1 = Math.min(f(d), lim1);
          let i2 = i1 - d;
          if (lim2 < i2) { i1 = lim2 + d; i2 = lim2; }
          if (fbest < i1 + i2) { fbest = i1 + i2; fbest1 = i1; }
        }
        let bbest = LINE_MAX; let bbest1 = LINE_MAX;
        for (let d = bmax; d >= bmin; d -= 2) {
          let i1 = Math.max(off1, bk(d));
          let i2 = i1 - d;
          if (i2 < off2) { i1 = off2 + d; i2 = off2; }
          if (i1 + i2 < bbest) { bbest = i1 + i2; bbest1 = i1; }
        }
        return (lim1 + lim2) - bbest < fbest - (off1 + off2)
          ? { i1: fbest1, i2: fbest - fbest1, minLo: true, minHi: false }
          : { i1: bbest1, i2: bbest - bbest1, minLo: false, minHi: true };
      }
    }
  }
}
