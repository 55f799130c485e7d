import { describe, expect, it } from 'vitest';
import { slugFromTitle, slugProblem, uniqueSlug } from '../../src/content/slugs.js';

describe('slugFromTitle', () => {
  it('keeps Korean letters and lower-cases Latin ones', () => {
    expect(slugFromTitle('딥러닝 기초 1강: PyTorch로 시작하기')).toBe('딥러닝-기초-1강-pytorch로-시작하기');
  });

  it('drops punctuation and joins words with hyphens', () => {
    expect(slugFromTitle('Hello, World!')).toBe('hello-world');
    expect(slugFromTitle('  many   spaces -- and dashes  ')).toBe('many-spaces-and-dashes');
  });

  it('keeps letters of other scripts as written instead of transliterating them', () => {
    expect(slugFromTitle('Привет, мир')).toBe('привет-мир');
    expect(slugFromTitle('Café crème')).toBe('café-crème');
    expect(slugFromTitle('日本語のテキスト')).toBe('日本語のテキスト');
  });

  it('is never empty', () => {
    expect(slugFromTitle('!!!')).toBe('page');
    expect(slugFromTitle('   ')).toBe('page');
  });

  it('stays within the slug length with room for a suffix', () => {
    const slug = slugFromTitle('word '.repeat(200));
    expect(slug.length).toBeLessThanOrEqual(247);
    expect(slug.endsWith('-')).toBe(false);
  });

  it('produces slugs that pass validation', () => {
    for (const t of ['딥러닝 기초 1강: PyTorch로 시작하기', 'Hello, World!', 'Café & crème', 'a_b']) {
      expect(slugProblem(slugFromTitle(t))).toBeNull();
    }
  });
});

describe('uniqueSlug', () => {
  it('suffixes -2, -3 past taken slugs', () => {
    expect(uniqueSlug('intro', new Set())).toBe('intro');
    expect(uniqueSlug('intro', new Set(['intro']))).toBe('intro-2');
    expect(uniqueSlug('intro', new Set(['intro', 'intro-2']))).toBe('intro-3');
  });
});

describe('slugProblem', () => {
  it('accepts unicode slugs and rejects spaces, slashes and empty strings', () => {
    expect(slugProblem('딥러닝-기초')).toBeNull();
    expect(slugProblem('has space')).toMatch(/letters, digits/);
    expect(slugProblem('a/b')).toMatch(/letters, digits/);
    expect(slugProblem('')).toMatch(/empty/);
    expect(slugProblem(12)).toMatch(/string/);
  });
});
