import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializePageDoc, type PageDoc } from '../../../src/content/page-document.js';
import { gitBlobId, unifiedPatch } from '../../../src/history/diff/unified-patch.js';

const PATH = 'pages/07/1207.json';
let dir: string;
let commits = 0;

// Real git, isolated from the machine's and the user's configuration (diff.algorithm, colours, prefixes).
const git = (...args: string[]) => execFileSync('git', args, {
  cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', HOME: dir },
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lectern-patch-'));
  git('init', '-q');
  git('config', 'user.name', 'Test');
  git('config', 'user.email', 'test@example.com');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Commits `text` at `path` (null: deletes it) and returns the commit. */
function commit(path: string, text: string | null): string {
  const file = join(dir, path);
  if (text === null) rmSync(file, { force: true });
  else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  git('add', '-A');
  git('commit', '-q', '--allow-empty', '-m', `c${++commits}`);
  return git('rev-parse', 'HEAD').trim();
}

/** What `git diff` prints for `path` between two versions, next to what unifiedPatch makes of them. */
function both(fromText: string | null, toText: string | null, path = PATH) {
  const c1 = commit(path, fromText);
  const c2 = commit(path, toText);
  const blob = (c: string, text: string | null) => (text === null ? null : git('rev-parse', `${c}:${path}`).trim());
  const expected = git('diff', '--no-color', '--no-ext-diff', c1, c2, '--', path);
  const actual = unifiedPatch({ path, fromText, toText, fromBlob: blob(c1, fromText), toBlob: blob(c2, toText) });
  return { expected, actual };
}

const block = (i: number) => ({
  type: ['heading', 'paragraph', 'jupyter'][i % 3] as string,
  value: i % 3 === 2 ? { code: `x = torch.arange(${i})\nprint(x)`, kernel: 'python3' } : i % 3 === 1 ? `<p>Paragraph ${i}: 텐서는 다차원 배열입니다.</p>` : `Section ${i}`,
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
});
const page = (body: unknown[], members: Partial<PageDoc> = {}): PageDoc => ({
  id: 1207, type: 'lesson', parent: 3, title: '딥러닝 기초 1강: PyTorch로 시작하기', slug: '딥러닝-기초-1강-pytorch로-시작하기', seo_title: '', search_description: '',
  show_in_menus: false, intro: '텐서를 만들고 GPU에서 연산해 봅니다.', environment: 'pytorch-2.4-cuda', body, ...members,
});
const lesson = (n: number) => Array.from({ length: n }, (_, i) => block(i));
const file = (body: unknown[], members: Partial<PageDoc> = {}) => serializePageDoc(page(body, members));

describe('unifiedPatch prints what git diff prints', () => {
  it('a changed line in the middle', () => {
    const body = lesson(12);
    const edited = structuredClone(body);
    edited[6]!.value = 'Section 6: reshaping';
    const { expected, actual } = both(file(body), file(edited));
    expect(actual).toBe(expected);
    expect(actual).toContain('\n@@ -48,7 +48,7 @@\n');
  });

  it('lines added at the start and at the end of a file', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    const { expected, actual } = both(`${lines.join('\n')}\n`, `first\nsecond\n${lines.join('\n')}\nlast\n`, 'notes.txt');
    expect(actual).toBe(expected);
    // "line 16" starts with a letter: git's default driver shows it as the hunk's function name.
    expect(actual.match(/^@@.*$/gm)).toEqual(['@@ -1,3 +1,5 @@', '@@ -18,3 +20,4 @@ line 16']);
  });

  it('blocks added at the start and the end of the body', () => {
    const body = lesson(10);
    const { expected, actual } = both(file(body), file([block(100), ...body, block(101)]));
    expect(actual).toBe(expected);
  });

  it('a block of lines removed', () => {
    const body = lesson(12);
    const { expected, actual } = both(file(body), file([...body.slice(0, 4), ...body.slice(7)]));
    expect(actual).toBe(expected);
  });

  // Inserting or moving a block repeats the `},` / `{` lines, so several shortest edits
  // exist; the patch must pick the one git picks.
  it('a block inserted in the middle and another moved (ambiguous placements, placed as git does)', () => {
    const body = lesson(12);
    const edited = [...body.slice(0, 3), block(200), ...body.slice(3)];
    edited.splice(9, 0, ...edited.splice(1, 1));
    const { expected, actual } = both(file(body), file(edited));
    expect(actual).toBe(expected);
  });

  it('page fields and several hunks, near ones merged', () => {
    const body = lesson(15);
    const edited = structuredClone(body);
    (edited[2]!.value as { code: string }).code = 'x = torch.zeros(2, 3)\nprint(x.shape)';
    edited[3]!.value = 'Section 3 (revised)';
    edited[13]!.value = '<p>Paragraph 13: 텐서는 고차원 배열입니다.</p>';
    const { expected, actual } = both(file(body), file(edited, { title: '딥러닝 기초 2강', show_in_menus: true }));
    expect(actual).toBe(expected);
  });

  it('a file created', () => {
    const { expected, actual } = both(null, file(lesson(3)), 'pages/08/1208.json');
    expect(actual).toBe(expected);
    expect(actual.split('\n').slice(0, 6)).toEqual([
      'diff --git a/pages/08/1208.json b/pages/08/1208.json', 'new file mode 100644', expect.stringMatching(/^index 0000000\.\.[0-9a-f]{7}$/),
      '--- /dev/null', '+++ b/pages/08/1208.json', '@@ -0,0 +1,32 @@',
    ]);
  });

  it('a file deleted', () => {
    const { expected, actual } = both(file(lesson(3)), null, 'pages/09/1209.json');
    expect(actual).toBe(expected);
    expect(actual).toContain('deleted file mode 100644\n');
    expect(actual).toContain('\n+++ /dev/null\n@@ -1,');
  });

  it('an empty file created', () => {
    const { expected, actual } = both(null, '', 'empty.txt');
    expect(actual).toBe(expected);
  });

  it('a missing newline at the end of either side', () => {
    const a = 'one\ntwo\nthree';
    for (const [from, to, path] of [[a, 'one\ntwo\nthree\n', 'c.txt'], ['one\ntwo\n', 'one\ntwo\nfour', 'd.txt'], ['x', 'y', 'e.txt']] as const) {
      const { expected, actual } = both(from, to, path);
      expect(actual).toBe(expected);
      expect(actual).toContain('\\ No newline at end of file\n');
    }
  });

  it('a one-line hunk header omits the count', () => {
    const { expected, actual } = both('a\n', 'b\n', 'one.txt');
    expect(actual).toBe(expected);
    expect(actual).toContain('\n@@ -1 +1 @@\n-a\n+b\n');
  });

  it('gives git\'s function-name context after @@ for lines that start a definition', () => {
    const before = ['def train(model):', ...Array.from({ length: 10 }, (_, i) => `    step(${i})`), ''].join('\n');
    const after = before.replace('step(7)', 'step(70)');
    const { expected, actual } = both(before, after, 'train.py');
    expect(actual).toBe(expected);
    expect(actual).toContain('\n@@ -6,6 +6,6 @@ def train(model):\n');
  });
});

describe('unifiedPatch', () => {
  it('is empty for identical texts', () => {
    const text = file(lesson(2));
    expect(unifiedPatch({ path: PATH, fromText: text, toText: text, fromBlob: 'a'.repeat(40), toBlob: 'b'.repeat(40) })).toBe('');
    expect(unifiedPatch({ path: PATH, fromText: null, toText: null, fromBlob: null, toBlob: null })).toBe('');
  });

  it('computes blob ids as git does when none is given', () => {
    const text = file(lesson(2));
    writeFileSync(join(dir, 'hash.json'), text);
    expect(gitBlobId(text)).toBe(git('hash-object', 'hash.json').trim());
    const patch = unifiedPatch({ path: PATH, fromText: null, toText: text, fromBlob: null, toBlob: null });
    expect(patch).toContain(`index 0000000..${gitBlobId(text).slice(0, 7)}\n`);
  });
});
