/**
 * Marks one longest strictly increasing subsequence of `seq`, in O(n log n) (patience
 * sorting). Block ids are unique on each side, so the longest common subsequence of
 * two id orders is the longest increasing run of old positions read in the new order;
 * this is what keeps the block diff fast on long lessons with many moves.
 */
export function longestIncreasingSubsequence(seq: ArrayLike<number>): Uint8Array {
  const n = seq.length;
  const keep = new Uint8Array(n);
  if (n === 0) return keep;
  /** tails[l]: position of the smallest last value of an increasing run of length l + 1. */
  const tails = new Int32Array(n);
  const previous = new Int32Array(n);
  let length = 0;
  for (let p = 0; p < n; p++) {
    const v = seq[p] as number;
    let lo = 0;
    let hi = length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((seq[tails[mid] as number] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    previous[p] = lo > 0 ? tails[lo - 1] as number : -1;
    tails[lo] = p;
    if (lo === length) length++;
  }
  for (let p = tails[length - 1] as number; p !== -1; p = previous[p] as number) keep[p] = 1;
  return keep;
}
