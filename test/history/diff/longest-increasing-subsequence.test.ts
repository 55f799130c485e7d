import { describe, expect, it } from 'vitest';
import { longestIncreasingSubsequence } from '../../../src/history/diff/longest-increasing-subsequence.js';

describe('longestIncreasingSubsequence', () => {
  it('marks one longest increasing run', () => {
    expect([...longestIncreasingSubsequence([0, 3, 1, 2, 4])]).toEqual([1, 0, 1, 1, 1]);
    expect([...longestIncreasingSubsequence([1, 2, 3, 4, 0])]).toEqual([1, 1, 1, 1, 0]);
    expect([...longestIncreasingSubsequence([])]).toEqual([]);
  });

  it('handles long inputs in n log n', () => {
    const n = 200_000;
    const seq = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? i : n - i));
    const start = performance.now();
    const keep = longestIncreasingSubsequence(seq);
    expect(performance.now() - start).toBeLessThan(500);
    const kept = seq.filter((_, i) => keep[i] === 1);
    expect(kept.every((v, i) => i === 0 || v > kept[i - 1]!)).toBe(true);
    expect(kept.length).toBe(n / 2);
  });
});
