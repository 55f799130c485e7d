import { describe, expect, it } from 'vitest';
import type { Segment } from '../../../src/generated/schema-types.js';
import { wordDiff, wordTokens } from '../../../src/history/diff/word-diff.js';

const oldText = (segments: Segment[]) => segments.filter((s) => s.op !== 'ins').map((s) => s.text).join('');
const newText = (segments: Segment[]) => segments.filter((s) => s.op !== 'del').map((s) => s.text).join('');

describe('wordTokens', () => {
  it('splits at Unicode word boundaries, keeping spaces and punctuation as tokens', () => {
    expect(wordTokens('텐서는 다차원 배열입니다.')).toEqual(['텐서는', ' ', '다차원', ' ', '배열입니다', '.']);
    expect(wordTokens("It's 3.14,  isn't it?")).toEqual(["It's", ' ', '3.14', ',', '  ', "isn't", ' ', 'it', '?']);
    expect(wordTokens('深度学习是机器学习')).toEqual(['深度', '学习', '是', '机器', '学习']);
  });

  it('never cuts a grapheme: combining marks and emoji sequences stay whole', () => {
    expect(wordTokens('e\u0301te\u0301 👍🏽 👩‍💻')).toEqual(['e\u0301te\u0301', ' ', '👍🏽', ' ', '👩‍💻']);
  });

  it('segments a long text piece by piece exactly as a whole', () => {
    const korean = Array.from({ length: 600 }, (_, i) => `텐서${i}는 다차원 배열입니다.`).join(' ');
    const whole = [...new Intl.Segmenter('und', { granularity: 'word' }).segment(korean)].map((s) => s.segment);
    expect(wordTokens(korean)).toEqual(whole);
  });

  it('cuts a long text without spaces at ideographic punctuation or grapheme boundaries, losing nothing', () => {
    const chinese = '深度学习是机器学习的一个分支。'.repeat(400);
    expect(wordTokens(chinese).join('')).toBe(chinese);
    const emoji = '👩‍💻👍🏽'.repeat(2000);
    const tokens = wordTokens(emoji);
    expect(tokens.join('')).toBe(emoji);
    expect(tokens.every((t) => /^(?:👩‍💻|👍🏽)+$/u.test(t))).toBe(true);
  });
});

describe('wordDiff', () => {
  it('gives eq+del = old text and eq+ins = new text, adjacent ops merged', () => {
    const cases: [string, string][] = [
      ['텐서는 다차원 배열입니다', '텐서는 고차원 배열입니다'],
      ['The gradient points uphill; we step the other way.', 'The gradient points uphill, so we step downhill.'],
      ['', 'new text'],
      ['old text', ''],
      ['a b c d e f', 'f e d c b a'],
      ['GPU가 없으면 CPU에서도 같은 코드가 동작합니다.', 'GPU가 없어도 CPU에서 같은 코드가 동작합니다! 👍'],
      ['  leading and trailing  ', 'leading and trailing'],
    ];
    for (const [a, b] of cases) {
      const segments = wordDiff(a, b);
      expect(oldText(segments)).toBe(a);
      expect(newText(segments)).toBe(b);
      for (let i = 1; i < segments.length; i++) expect(segments[i]!.op).not.toBe(segments[i - 1]!.op);
      expect(segments.every((s) => s.text !== '')).toBe(true);
    }
  });

  it('reports an equal text as one eq segment, and nothing for two empty texts', () => {
    expect(wordDiff('same', 'same')).toEqual([{ op: 'eq', text: 'same' }]);
    expect(wordDiff('', '')).toEqual([]);
  });

  it('puts the deletion before the insertion', () => {
    expect(wordDiff('learning rate 0.1', 'learning rate 0.01')).toEqual([
      { op: 'eq', text: 'learning rate ' }, { op: 'del', text: '0.1' }, { op: 'ins', text: '0.01' },
    ]);
  });

  it('stays fast on a long text rewritten from end to end', () => {
    const words = (seed: number) => Array.from({ length: 15_000 }, (_, i) => `w${(i * seed) % 9973}`).join(' ');
    const start = performance.now();
    const segments = wordDiff(words(7), words(13));
    expect(performance.now() - start).toBeLessThan(2000);
    expect(oldText(segments)).toBe(words(7));
    expect(newText(segments)).toBe(words(13));
  });
});
