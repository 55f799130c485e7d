import { describe, expect, it } from 'vitest';
import { BLOCKS_DIR } from '../../src/app.js';
import { BlockRegistry } from '../../src/blocks/block-registry.js';
import { cleanValue, newCleanContext, type StoredBlock } from '../../src/blocks/clean-value.js';
import { isBlockId } from '../../src/blocks/block-ids.js';

const registry = BlockRegistry.load(BLOCKS_DIR);
const lessonBody = registry.compile({
  kind: 'stream',
  blocks: ['heading', 'paragraph', 'text', 'image', 'document', 'block_quote', 'embed', 'code', 'jupyter', 'quiz', 'exercise'],
  blockCounts: { quiz: { max: 1 } },
}, 'test body');

function clean(body: unknown) {
  const ctx = newCleanContext(registry);
  const value = cleanValue(lessonBody, body, '/body', ctx, 'body') as StoredBlock[];
  return { value, errors: ctx.errors };
}

describe('stream validation', () => {
  it('accepts every leaf block type and gives each block a UUID', () => {
    const { value, errors } = clean([
      { type: 'heading', value: 'Intro' },
      { type: 'paragraph', value: '<p>Hi <b>there</b></p>' },
      { type: 'text', value: 'plain' },
      { type: 'image', value: 3 },
      { type: 'document', value: 4 },
      { type: 'block_quote', value: 'quote' },
      { type: 'embed', value: 'https://www.youtube.com/watch?v=aircAruvnKk' },
      { type: 'code', value: { source: 'ls', language: 'bash' } },
      { type: 'jupyter', value: { code: 'print(1)' } },
    ]);
    expect(errors).toEqual([]);
    expect(value.map((b) => b.type)).toEqual(['heading', 'paragraph', 'text', 'image', 'document', 'block_quote', 'embed', 'code', 'jupyter']);
    expect(value.every((b) => isBlockId(b.id))).toBe(true);
    expect(new Set(value.map((b) => b.id)).size).toBe(value.length);
    // Defaults are filled in and value keys come out sorted (the canonical form).
    expect(value[8]!.value).toEqual({ code: 'print(1)', kernel: 'python3' });
    expect(Object.keys(value[7]!.value as object)).toEqual(['language', 'source']);
  });

  it('keeps ids that are given', () => {
    const id = '0b6f4a1e-2a55-4c38-9d31-6b8f0d0c1a11';
    const { value, errors } = clean([{ type: 'heading', value: 'x', id }]);
    expect(errors).toEqual([]);
    expect(value[0]!.id).toBe(id);
  });

  it('points at the offending place and names the block type', () => {
    const { errors } = clean([
      { type: 'heading', value: 'ok' },
      { type: 'heading', value: 'ok' },
      { type: 'heading', value: 'ok' },
      { type: 'jupyter', value: { code: 42 } },
    ]);
    expect(errors).toEqual([{ path: '/body/3/value/code', message: 'jupyter: must be string' }]);
  });

  it('names missing and unexpected properties in the path', () => {
    const { errors } = clean([{ type: 'code', value: { lang: 'py' } }]);
    expect(errors).toContainEqual({ path: '/body/0/value/source', message: "code: must have required property 'source'" });
    expect(errors).toContainEqual({ path: '/body/0/value/lang', message: 'code: is not an allowed property' });
  });

  it('rejects unknown block types, block types the stream does not accept, and malformed blocks', () => {
    expect(clean([{ type: 'video', value: 'x' }]).errors[0]).toMatchObject({ path: '/body/0/type', message: expect.stringContaining('unknown block type "video"') });
    const exerciseWithQuiz = clean([{ type: 'exercise', value: { title: 'E', instructions: [{ type: 'quiz', value: {} }] } }]);
    expect(exerciseWithQuiz.errors[0]).toMatchObject({ path: '/body/0/value/instructions/0/type', message: expect.stringContaining('not allowed here') });
    expect(clean(['heading']).errors[0]).toMatchObject({ path: '/body/0' });
    expect(clean({}).errors[0]).toMatchObject({ path: '/body', message: expect.stringContaining('must be a list of blocks') });
    expect(clean([{ type: 'heading' }]).errors[0]).toMatchObject({ path: '/body/0/value' });
    expect(clean([{ type: 'heading', value: 'x', extra: 1 }]).errors[0]).toMatchObject({ path: '/body/0/extra' });
  });

  it('rejects duplicate ids and ids that are not UUIDs', () => {
    const id = '0b6f4a1e-2a55-4c38-9d31-6b8f0d0c1a11';
    const dup = clean([{ type: 'heading', value: 'a', id }, { type: 'heading', value: 'b', id }]);
    expect(dup.errors).toEqual([{ path: '/body/1/id', message: `heading: duplicate block id ${id} (first used at /body/0)` }]);
    expect(clean([{ type: 'heading', value: 'a', id: 'nope' }]).errors[0]).toMatchObject({ path: '/body/0/id' });
  });

  it('enforces per-type counts declared by the stream', () => {
    const quiz = { type: 'quiz', value: { question: '<p>?</p>', choices: [{ text: 'a' }, { text: 'b' }] } };
    expect(clean([quiz]).errors).toEqual([]);
    expect(clean([quiz, quiz]).errors).toEqual([{ path: '/body', message: 'body: allows at most 1 quiz block(s), has 2' }]);
  });
});

describe('composite blocks', () => {
  it('cleans a quiz struct: a list of choice structs, items wrapped with ids, defaults applied', () => {
    const { value, errors } = clean([{
      type: 'quiz',
      value: { question: '<p>2 + 2?</p>', choices: [{ text: '4', correct: true }, { type: 'item', value: { text: '5' } }] },
    }]);
    expect(errors).toEqual([]);
    const quiz = value[0]!.value as { choices: { type: string; value: { text: string; correct: boolean }; id: string }[] };
    expect(quiz.choices.map((c) => c.type)).toEqual(['item', 'item']);
    expect(quiz.choices.map((c) => c.value)).toEqual([{ text: '4', correct: true }, { text: '5', correct: false }]);
    expect(quiz.choices.every((c) => isBlockId(c.id))).toBe(true);
  });

  it('points into lists and structs', () => {
    const { errors } = clean([{ type: 'quiz', value: { question: '<p>?</p>', choices: [{ text: '' }], color: 'red' } }]);
    expect(errors).toContainEqual({ path: '/body/0/value/color', message: expect.stringContaining('"color" is not a field of this block') });
    expect(errors).toContainEqual({ path: '/body/0/value/choices', message: 'quiz: must have at least 2 items' });
    expect(errors).toContainEqual({ path: '/body/0/value/choices/0/text', message: 'quiz: must NOT have fewer than 1 characters' });
  });

  it('cleans a nested stream inside a struct and gives its blocks ids', () => {
    const { value, errors } = clean([{
      type: 'exercise',
      value: { title: 'Try it', instructions: [{ type: 'paragraph', value: '<p>Run:</p>' }, { type: 'jupyter', value: { code: '1+1' } }] },
    }]);
    expect(errors).toEqual([]);
    const ex = value[0]!.value as { instructions: StoredBlock[] };
    expect(ex.instructions.map((b) => b.type)).toEqual(['paragraph', 'jupyter']);
    expect(ex.instructions.every((b) => isBlockId(b.id))).toBe(true);
  });

  it('requires required children', () => {
    const { errors } = clean([{ type: 'exercise', value: { title: 'T' } }]);
    expect(errors).toEqual([{ path: '/body/0/value/instructions', message: 'exercise: is required' }]);
  });
});

describe('rich text sanitizing', () => {
  it('removes scripts, event handlers and javascript: URLs, keeping allowed markup', () => {
    const { value } = clean([{
      type: 'paragraph',
      value: '<p onclick="steal()">Hi <b>there</b><script>alert(1)</script> <a href="javascript:alert(1)">x</a> <a href="https://ok.example/">ok</a><img src=x onerror=alert(1)><iframe src="https://evil"></iframe></p>',
    }]);
    const html = value[0]!.value as string;
    expect(html).toBe('<p>Hi <b>there</b> <a>x</a> <a href="https://ok.example/">ok</a></p>');
  });

  it('sanitizes rich text inside composite blocks too', () => {
    const { value } = clean([{ type: 'quiz', value: { question: '<p>Q<script>x()</script></p>', choices: [{ text: 'a' }, { text: 'b' }] } }]);
    expect((value[0]!.value as { question: string }).question).toBe('<p>Q</p>');
  });
});

describe('jupyter outputs saved with a block', () => {
  it('are sanitized like the outputs of a run: HTML cleaned, scripts and SVG dropped', () => {
    const { value, errors } = clean([{
      type: 'jupyter',
      value: {
        code: 'df',
        outputs: [
          { output_type: 'execute_result', execution_count: 1, metadata: {}, data: { 'text/plain': 'df', 'text/html': '<table><tr><td>1</td></tr></table><script>steal()</script>', 'application/javascript': 'steal()' } },
          { output_type: 'display_data', metadata: {}, data: { 'image/svg+xml': '<svg onload="steal()"/>', 'image/png': 'iVBORw0KGgo=' } },
          { output_type: 'stream', name: 'stdout', text: '<script>is just text here</script>' },
        ],
      },
    }]);
    expect(errors).toEqual([]);
    const outputs = (value[0]!.value as { outputs: { data?: Record<string, unknown>; text?: string }[] }).outputs;
    expect(outputs[0]!.data).toEqual({ 'text/plain': 'df', 'text/html': '<table><tr><td>1</td></tr></table>' });
    expect(outputs[1]!.data).toEqual({ 'image/png': 'iVBORw0KGgo=' });
    expect(outputs[2]!.text).toBe('<script>is just text here</script>');
  });
});
