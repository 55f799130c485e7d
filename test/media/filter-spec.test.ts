import { describe, expect, it } from 'vitest';
import { FilterSpecError, parseFilterSpec } from '../../src/media/images/filter-spec.js';

function errorOf(spec: string): FilterSpecError {
  try {
    parseFilterSpec(spec);
  } catch (err) {
    if (err instanceof FilterSpecError) return err;
    throw err;
  }
  throw new Error(`"${spec}" was accepted`);
}

describe('parseFilterSpec', () => {
  it('parses every resize operation', () => {
    expect(parseFilterSpec('original').resize).toEqual({ op: 'original' });
    expect(parseFilterSpec('width-640').resize).toEqual({ op: 'width', size: 640 });
    expect(parseFilterSpec('height-480').resize).toEqual({ op: 'height', size: 480 });
    expect(parseFilterSpec('max-1000x500').resize).toEqual({ op: 'max', width: 1000, height: 500 });
    expect(parseFilterSpec('min-500x200').resize).toEqual({ op: 'min', width: 500, height: 200 });
    expect(parseFilterSpec('fill-80x80').resize).toEqual({ op: 'fill', width: 80, height: 80, closeness: 0 });
    expect(parseFilterSpec('fill-200x200-c75').resize).toEqual({ op: 'fill', width: 200, height: 200, closeness: 75 });
    expect(parseFilterSpec('scale-50').resize).toEqual({ op: 'scale', percent: 50 });
  });

  it('parses output options', () => {
    const spec = parseFilterSpec('width-400|format-webp|webpquality-60|jpegquality-70|avifquality-40|bgcolor-F0a');
    expect(spec).toMatchObject({
      format: 'webp', lossless: false, webpQuality: 60, jpegQuality: 70, avifQuality: 40, background: '#ff00aa',
    });
    expect(parseFilterSpec('format-avif-lossless')).toMatchObject({ format: 'avif', lossless: true });
    expect(parseFilterSpec('bgcolor-102030').background).toBe('#102030');
  });

  it('treats a spec without a resize operation as original', () => {
    const spec = parseFilterSpec('format-png');
    expect(spec.resize).toEqual({ op: 'original' });
    expect(spec.format).toBe('png');
    expect(spec.jpegQuality).toBeNull();
  });

  it('spells each rendition one way: fixed order, no -c0, no redundant original, lower-case hex', () => {
    const a = parseFilterSpec('webpquality-60|format-webp|fill-800x450-c50');
    const b = parseFilterSpec('fill-800x450-c50|format-webp|webpquality-60');
    expect(a.canonical).toBe('fill-800x450-c50|format-webp|webpquality-60');
    expect(b.canonical).toBe(a.canonical);
    expect(parseFilterSpec('fill-10x10-c0').canonical).toBe('fill-10x10');
    expect(parseFilterSpec('original|format-webp').canonical).toBe('format-webp');
    expect(parseFilterSpec('original').canonical).toBe('original');
    expect(parseFilterSpec('format-jpeg|bgcolor-FFF').canonical).toBe('bgcolor-ffffff|format-jpeg');
  });

  it('gives a file-safe form with dots between operations', () => {
    const spec = parseFilterSpec('format-webp|fill-800x450-c50');
    expect(spec.fileSafe).toBe('fill-800x450-c50.format-webp');
    for (const s of ['original', 'width-10|jpegquality-5', 'bgcolor-abc|format-avif-lossless|max-3x4']) {
      expect(parseFilterSpec(s).fileSafe).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/);
    }
  });

  it('parses its own canonical form to the same spec', () => {
    for (const s of ['fill-10x20-c100|avifquality-3|format-gif', 'format-webp-lossless|bgcolor-123', 'scale-5']) {
      const spec = parseFilterSpec(s);
      expect(parseFilterSpec(spec.canonical)).toEqual(spec);
    }
  });

  it('names an unknown filter and the spec it came in', () => {
    const err = errorOf('fill-10x10|foo');
    expect(err.message).toBe('unknown filter "foo" in "fill-10x10|foo"');
    expect(err.part).toBe('foo');
    expect(errorOf('Width-10').message).toMatch(/unknown filter "Width"/);
  });

  it('says what an operation needs when its argument is malformed', () => {
    expect(errorOf('fill-10').message).toBe('fill needs WIDTHxHEIGHT, got "fill-10"');
    expect(errorOf('max-10x').message).toMatch(/max dimensions must be whole numbers from 1 to 10000, got "max-10x"/);
    expect(errorOf('min-10x10-c5').message).toMatch(/min takes only WIDTHxHEIGHT/);
    expect(errorOf('width').message).toMatch(/width needs a number of pixels/);
    expect(errorOf('height-1-2').message).toMatch(/height needs a number of pixels/);
    expect(errorOf('original-5').message).toMatch(/original takes no argument/);
    expect(errorOf('fill-10x10-x').message).toMatch(/only a -cNN closeness/);
    expect(errorOf('fill-10x10-c5-c6').part).toBe('fill-10x10-c5-c6');
  });

  it('refuses dimensions that are zero, too large, signed, padded or fractional', () => {
    for (const part of ['width-0', 'width-10001', 'width-+5', 'width--5', 'width-05', 'width-5.0', 'width-1e3', 'width- 5', 'fill-0x10']) {
      const err = errorOf(part);
      expect(err.part).toBe(part);
      expect(err.message).toContain(`"${part}"`);
    }
    expect(parseFilterSpec('width-10000').resize).toEqual({ op: 'width', size: 10000 });
    expect(parseFilterSpec('fill-1x1').resize).toMatchObject({ width: 1, height: 1 });
  });

  it('bounds closeness, scale and quality', () => {
    expect(parseFilterSpec('fill-10x10-c100').resize).toMatchObject({ closeness: 100 });
    expect(errorOf('fill-10x10-c101').message).toBe('fill closeness must be c0 to c100, got "fill-10x10-c101"');
    expect(errorOf('fill-10x10-c').message).toMatch(/closeness/);
    expect(errorOf('scale-0').message).toMatch(/scale needs a whole percentage from 1 to 100/);
    expect(errorOf('scale-150').message).toMatch(/never enlarged/);
    expect(errorOf('jpegquality-0').message).toBe('jpegquality needs a quality from 1 to 100, got "jpegquality-0"');
    expect(errorOf('webpquality-101').part).toBe('webpquality-101');
    expect(parseFilterSpec('avifquality-100').avifQuality).toBe(100);
  });

  it('refuses formats it cannot produce and lossless where it means nothing', () => {
    expect(errorOf('format-bmp').message).toBe('format must be one of avif, webp, jpeg, png, gif, got "format-bmp"');
    expect(errorOf('format-jpg').part).toBe('format-jpg');
    expect(errorOf('format-png-lossless').message).toMatch(/only webp and avif can be lossless/);
    expect(errorOf('format-webp-fast').message).toMatch(/only a -lossless option/);
  });

  it('refuses a bgcolor that is not 3 or 6 hex digits', () => {
    for (const part of ['bgcolor-12', 'bgcolor-#fff', 'bgcolor-ggg', 'bgcolor-1234567', 'bgcolor']) {
      expect(errorOf(part).message).toMatch(/bgcolor needs a 3 or 6 digit hex colour/);
    }
  });

  it('allows one resize operation and each option once', () => {
    const two = errorOf('fill-10x10|width-5');
    expect(two.message).toBe('only one resize operation is allowed, got "fill-10x10" and "width-5" in "fill-10x10|width-5"');
    expect(two.part).toBe('width-5');
    expect(errorOf('original|width-5').part).toBe('width-5');
    const dup = errorOf('format-webp|width-5|format-png');
    expect(dup.message).toBe('duplicate filter "format" in "format-webp|width-5|format-png"');
    expect(dup.part).toBe('format-png');
    expect(errorOf('jpegquality-5|jpegquality-5').message).toMatch(/duplicate filter "jpegquality"/);
  });

  it('refuses empty specs, empty parts and overlong specs', () => {
    expect(errorOf('').message).toBe('empty filter spec');
    expect(errorOf('width-10|').message).toBe('empty filter in "width-10|"');
    expect(errorOf('|width-10').part).toBe('');
    expect(errorOf(`width-10|${'format-png|'.repeat(30)}`).message).toMatch(/longer than 255 characters/);
  });
});
