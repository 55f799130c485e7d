import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseFilterSpec } from '../../src/media/images/filter-spec.js';
import { ImageRejectedError } from '../../src/media/images/probe-image.js';
import { planRendition, renderImage, type FocalPoint } from '../../src/media/images/render-image.js';

const MAX_PIXELS = 40_000_000;

function canvas(width: number, height: number, background = '#0000ff') {
  return sharp({ create: { width, height, channels: 3, background } });
}

/** A blue image with a red square: where the square lands in a crop is easy to measure. */
async function withRedSquare(width: number, height: number, square: { left: number; top: number; size: number }) {
  const red = await canvas(square.size, square.size, '#ff0000').png().toBuffer();
  return canvas(width, height).composite([{ input: red, left: square.left, top: square.top }]).png().toBuffer();
}

async function render(original: Buffer, spec: string, focalPoint?: FocalPoint) {
  return renderImage(original, parseFilterSpec(spec), { focalPoint: focalPoint ?? null, maxPixels: MAX_PIXELS });
}

/** The share of red in an image of pure red and pure blue. */
async function redShare(image: Buffer): Promise<number> {
  const { channels } = await sharp(image).stats();
  return channels[0]!.mean / 255;
}

async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return Array.from(data.subarray(at, at + 3));
}

async function animatedGif(width: number, height: number): Promise<Buffer> {
  const frames = await Promise.all(['#f00', '#0f0', '#00f'].map((c) => canvas(width, height, c).png().toBuffer()));
  return sharp(frames, { join: { animated: true } }).gif({ delay: [100, 100, 100] }).toBuffer();
}

describe('renderImage sizes', () => {
  const cases: [string, number, number][] = [
    ['original', 400, 300],
    ['width-200', 200, 150],
    ['height-100', 133, 100],
    ['max-100x100', 100, 75],
    ['max-1000x150', 200, 150],
    ['min-100x100', 133, 100],
    ['min-200x50', 200, 150],
    ['scale-50', 200, 150],
    ['scale-10', 40, 30],
    ['fill-100x100', 100, 100],
    ['fill-160x90', 160, 90],
  ];
  it.each(cases)('%s of a 400×300 image is %i×%i', async (spec, width, height) => {
    const original = await canvas(400, 300).png().toBuffer();
    const out = await render(original, spec);
    expect([out.width, out.height]).toEqual([width, height]);
    const meta = await sharp(out.data).metadata();
    expect([meta.width, meta.height]).toEqual([width, height]);
  });

  it('never enlarges: larger boxes leave the image at its own size', async () => {
    const original = await canvas(400, 300).png().toBuffer();
    for (const spec of ['width-1000', 'height-301', 'max-1000x1000', 'min-500x100', 'min-1000x1000', 'scale-100']) {
      const out = await render(original, spec);
      expect([spec, out.width, out.height]).toEqual([spec, 400, 300]);
    }
  });

  it('shrinks a fill box the image cannot cover, keeping its aspect ratio', async () => {
    const original = await canvas(400, 200).png().toBuffer();
    const square = await render(original, 'fill-400x400');
    expect([square.width, square.height]).toEqual([200, 200]);
    const wide = await render(original, 'fill-1600x400');
    expect([wide.width, wide.height]).toEqual([400, 100]);
  });
});

describe('renderImage fill and the focal point', () => {
  it('crops to the centre without a focal point', async () => {
    const original = await withRedSquare(600, 200, { left: 0, top: 0, size: 200 });
    const out = await render(original, 'fill-100x100');
    expect([out.width, out.height]).toEqual([100, 100]);
    expect(await redShare(out.data)).toBeLessThan(0.02);
  });

  it('crops around the focal point, keeping the crop inside the image', async () => {
    const original = await withRedSquare(600, 200, { left: 0, top: 0, size: 200 });
    const out = await render(original, 'fill-100x100', { x: 100, y: 100, width: 200, height: 200 });
    expect([out.width, out.height]).toEqual([100, 100]);
    expect(await redShare(out.data)).toBeGreaterThan(0.95);
  });

  it('keeps the whole focal rectangle in the crop', async () => {
    // The focal point's centre is at 40 % of the width, so the crop would start right of
    // the rectangle's left edge; it must move left to keep all of it.
    const original = await withRedSquare(1000, 200, { left: 300, top: 0, size: 200 });
    const plan = planRendition(1000, 200, parseFilterSpec('fill-100x100').resize, { x: 400, y: 100, width: 200, height: 200 });
    expect(plan.crop).toEqual({ left: 300, top: 0, width: 200, height: 200 });
    const out = await render(original, 'fill-100x100', { x: 400, y: 100, width: 200, height: 200 });
    expect(await redShare(out.data)).toBeGreaterThan(0.95);
  });

  it('crops closer to the focal point as closeness rises', async () => {
    const original = await withRedSquare(400, 400, { left: 250, top: 150, size: 100 });
    const focal = { x: 300, y: 200, width: 100, height: 100 };
    const shares: number[] = [];
    for (const c of [0, 50, 100]) {
      const out = await render(original, `fill-100x100-c${c}`, focal);
      expect([out.width, out.height]).toEqual([100, 100]);
      shares.push(await redShare(out.data));
    }
    expect(shares[0]).toBeCloseTo(1 / 16, 1);
    expect(shares[1]).toBeCloseTo(0.16, 1);
    expect(shares[2]).toBeGreaterThan(0.95);
    // c50: the crop is halfway between the whole image (400) and the focal point (100).
    const plan = planRendition(400, 400, parseFilterSpec('fill-100x100-c50').resize, focal);
    expect(plan.crop).toMatchObject({ width: 250, height: 250 });
  });

  it('stops closing in where the crop would have to be enlarged', async () => {
    const original = await withRedSquare(400, 400, { left: 250, top: 150, size: 100 });
    const out = await render(original, 'fill-300x300-c100', { x: 300, y: 200, width: 100, height: 100 });
    expect([out.width, out.height]).toEqual([300, 300]);
    expect(await redShare(out.data)).toBeCloseTo(1 / 9, 1);
  });

  it('ignores closeness without a focal point, as Wagtail does', () => {
    const fill = parseFilterSpec('fill-100x100-c100').resize;
    expect(planRendition(400, 200, fill, null)).toEqual({ crop: { left: 100, top: 0, width: 200, height: 200 }, width: 100, height: 100 });
  });
});

describe('renderImage formats', () => {
  it('keeps the original format unless format- is given', async () => {
    const png = await canvas(40, 30).png().toBuffer();
    const jpeg = await canvas(40, 30).jpeg().toBuffer();
    expect(await render(png, 'width-20')).toMatchObject({ format: 'png', mime: 'image/png', extension: 'png' });
    expect(await render(jpeg, 'width-20')).toMatchObject({ format: 'jpeg', mime: 'image/jpeg', extension: 'jpg' });
    expect((await sharp((await render(jpeg, 'width-20')).data).metadata()).format).toBe('jpeg');
  });

  it('produces each format- in its own format', async () => {
    const png = await canvas(40, 30).png().toBuffer();
    const expected = { webp: 'webp', avif: 'heif', jpeg: 'jpeg', png: 'png', gif: 'gif' } as const;
    for (const [format, decoder] of Object.entries(expected)) {
      const out = await render(png, `width-20|format-${format}`);
      expect(out.format).toBe(format);
      const meta = await sharp(out.data).metadata();
      expect([format, meta.format, meta.width, meta.height]).toEqual([format, decoder, 20, 15]);
      if (format === 'avif') expect(meta.compression).toBe('av1');
    }
    expect(await render(png, 'format-avif')).toMatchObject({ mime: 'image/avif', extension: 'avif' });
  });

  it('turns a still GIF into PNG unless format- says otherwise', async () => {
    const gif = await canvas(40, 30).gif().toBuffer();
    expect(await render(gif, 'original')).toMatchObject({ format: 'png', extension: 'png' });
    expect(await render(gif, 'format-gif')).toMatchObject({ format: 'gif' });
  });

  it('keeps an animated GIF animated when the output format can animate', async () => {
    const gif = await animatedGif(100, 80);
    const asGif = await render(gif, 'fill-40x40');
    expect(asGif).toMatchObject({ format: 'gif', width: 40, height: 40 });
    expect(await sharp(asGif.data).metadata()).toMatchObject({ format: 'gif', pages: 3, width: 40, height: 40 });
    const asWebp = await render(gif, 'width-50|format-webp');
    expect(asWebp).toMatchObject({ format: 'webp', width: 50, height: 40 });
    expect(await sharp(asWebp.data).metadata()).toMatchObject({ pages: 3 });
    const asPng = await render(gif, 'width-50|format-png');
    expect(asPng).toMatchObject({ format: 'png', width: 50, height: 40 });
    expect(await pixel(asPng.data, 0, 0)).toEqual([255, 0, 0]);
  });

  it('falls back to the first frame when all frames exceed maxPixels', async () => {
    const gif = await animatedGif(100, 80);
    const out = await renderImage(gif, parseFilterSpec('original'), { maxPixels: 100 * 80 * 2 });
    expect(out).toMatchObject({ format: 'gif', width: 100, height: 80 });
    expect((await sharp(out.data).metadata()).pages ?? 1).toBe(1);
  });

  it('lowers JPEG size with jpegquality and WebP size with webpquality', async () => {
    const noisy = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .png().toBuffer();
    const jpegLow = await render(noisy, 'format-jpeg|jpegquality-20');
    const jpegHigh = await render(noisy, 'format-jpeg|jpegquality-95');
    expect(jpegLow.data.length).toBeLessThan(jpegHigh.data.length * 0.6);
    const webpLow = await render(noisy, 'format-webp|webpquality-20');
    const webpHigh = await render(noisy, 'format-webp|webpquality-95');
    expect(webpLow.data.length).toBeLessThan(webpHigh.data.length);
    // A quality option for another format changes nothing.
    const png = await render(noisy, 'jpegquality-20');
    expect(png.format).toBe('png');
  });

  it('puts transparent pixels on white for JPEG, or on the bgcolor', async () => {
    const transparent = await sharp({ create: { width: 10, height: 10, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png().toBuffer();
    const white = await render(transparent, 'format-jpeg');
    expect((await pixel(white.data, 5, 5)).every((v) => v > 250)).toBe(true);
    const red = await render(transparent, 'bgcolor-f00|format-png');
    expect(await pixel(red.data, 5, 5)).toEqual([255, 0, 0]);
    expect((await sharp(red.data).metadata()).hasAlpha).toBe(false);
  });
});

describe('renderImage orientation and metadata', () => {
  async function rotatedJpeg() {
    // Stored 400×200 with the left half red; orientation 6 shows it turned a quarter
    // clockwise: 200×400 with the top half red.
    const red = await canvas(200, 200, '#ff0000').png().toBuffer();
    return canvas(400, 200).composite([{ input: red, left: 0, top: 0 }]).jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 }).toBuffer();
  }

  it('applies the EXIF orientation before resizing', async () => {
    const out = await render(await rotatedJpeg(), 'width-100');
    expect([out.width, out.height]).toEqual([100, 200]);
    const [r, , b] = await pixel(out.data, 50, 20);
    expect(r).toBeGreaterThan(200);
    expect(b).toBeLessThan(60);
    const [r2, , b2] = await pixel(out.data, 50, 180);
    expect(r2).toBeLessThan(60);
    expect(b2).toBeGreaterThan(200);
  });

  it('crops in displayed coordinates', async () => {
    const out = await render(await rotatedJpeg(), 'fill-100x100', { x: 100, y: 100, width: 200, height: 200 });
    expect([out.width, out.height]).toEqual([100, 100]);
    expect(await redShare(out.data)).toBeGreaterThan(0.9);
  });

  it('strips metadata, orientation included', async () => {
    const out = await render(await rotatedJpeg(), 'original');
    const meta = await sharp(out.data).metadata();
    expect(meta.orientation).toBeUndefined();
    expect(meta.exif).toBeUndefined();
    expect([meta.width, meta.height]).toEqual([200, 400]);
  });
});

describe('renderImage limits', () => {
  it('refuses an original over maxPixels', async () => {
    const original = await canvas(100, 100).png().toBuffer();
    const attempt = renderImage(original, parseFilterSpec('width-10'), { maxPixels: 9_999 });
    await expect(attempt).rejects.toBeInstanceOf(ImageRejectedError);
    await expect(attempt).rejects.toMatchObject({ reason: 'too-many-pixels' });
  });

  it('refuses a truncated original', async () => {
    const original = await canvas(300, 200).jpeg().toBuffer();
    const attempt = render(original.subarray(0, original.length / 2), 'width-10');
    await expect(attempt).rejects.toMatchObject({ reason: 'corrupt' });
  });
});
