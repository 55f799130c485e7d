import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageRejectedError, probeImage, type ImageRejectedReason } from '../../src/media/images/probe-image.js';

const MAX_PIXELS = 40_000_000;

function canvas(width: number, height: number, background = '#3366cc') {
  return sharp({ create: { width, height, channels: 3, background } });
}

async function animated(format: 'gif' | 'webp', width: number, height: number): Promise<Buffer> {
  const frames = await Promise.all(['#f00', '#0f0', '#00f'].map((c) => canvas(width, height, c).png().toBuffer()));
  const joined = sharp(frames, { join: { animated: true } });
  return format === 'gif' ? joined.gif({ delay: [100, 100, 100] }).toBuffer() : joined.webp({ delay: [100, 100, 100] }).toBuffer();
}

async function rejection(bytes: Buffer, maxPixels = MAX_PIXELS): Promise<ImageRejectedError> {
  try {
    await probeImage(bytes, { maxPixels });
  } catch (err) {
    if (err instanceof ImageRejectedError) return err;
    throw err;
  }
  throw new Error('the file was accepted');
}

async function expectRejected(bytes: Buffer, reason: ImageRejectedReason, message?: RegExp) {
  const err = await rejection(bytes);
  expect(err.reason).toBe(reason);
  if (message) expect(err.message).toMatch(message);
}

/** A PNG whose header claims another size: the CRC is fixed so only the size is wrong. */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await canvas(1, 1).png().toBuffer());
  // Signature (8), then the IHDR chunk: length (4), type (4), width, height, …, CRC.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('probeImage', () => {
  it('identifies the five accepted formats with their size, MIME type and extension', async () => {
    const cases = [
      ['png', 'image/png', 'png', await canvas(40, 30).png().toBuffer()],
      ['jpeg', 'image/jpeg', 'jpg', await canvas(40, 30).jpeg().toBuffer()],
      ['webp', 'image/webp', 'webp', await canvas(40, 30).webp().toBuffer()],
      ['gif', 'image/gif', 'gif', await canvas(40, 30).gif().toBuffer()],
      ['avif', 'image/avif', 'avif', await canvas(40, 30).avif().toBuffer()],
    ] as const;
    for (const [format, mime, extension, bytes] of cases) {
      expect(await probeImage(bytes, { maxPixels: MAX_PIXELS })).toEqual({ format, mime, extension, width: 40, height: 30, frames: 1 });
    }
  });

  it('reports the size as displayed, after the EXIF orientation', async () => {
    const rotated = await canvas(400, 300).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect(await probeImage(rotated, { maxPixels: MAX_PIXELS })).toMatchObject({ format: 'jpeg', width: 300, height: 400 });
  });

  it('accepts animated GIF and WebP and reports the first frame size', async () => {
    expect(await probeImage(await animated('gif', 50, 40), { maxPixels: MAX_PIXELS }))
      .toMatchObject({ format: 'gif', width: 50, height: 40, frames: 3 });
    expect(await probeImage(await animated('webp', 50, 40), { maxPixels: MAX_PIXELS }))
      .toMatchObject({ format: 'webp', width: 50, height: 40, frames: 3 });
  });

  it('refuses an empty file', async () => {
    await expectRejected(Buffer.alloc(0), 'empty', /empty/);
  });

  it('refuses HTML, text and random bytes as not an image', async () => {
    const html = Buffer.from('<!DOCTYPE html><html><head><title>photo.png</title></head><body><img src="x.png"></body></html>');
    await expectRejected(html, 'not-an-image', /not an image; upload a PNG, JPEG, WebP, GIF or AVIF image/);
    await expectRejected(Buffer.from('just some text that happens to be named cat.jpg\n'), 'not-an-image');
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251));
    await expectRejected(random, 'not-an-image');
  });

  it('refuses SVG whatever its prologue', async () => {
    const svgs = [
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
      '\uFEFF<?xml version="1.0"?>\n<!-- drawn by hand -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">\n<svg/>',
      '<!DOCTYPE svg [ <!ENTITY a "b"> ]>\n  <svg:svg xmlns:svg="http://www.w3.org/2000/svg"></svg:svg>',
    ];
    for (const svg of svgs) await expectRejected(Buffer.from(svg), 'svg', /SVG images are not accepted/);
  });

  it('refuses other image formats by name', async () => {
    await expectRejected(await canvas(10, 10).tiff().toBuffer(), 'unsupported-format', /^TIFF images are not supported/);
    const heic = Buffer.concat([
      Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.from([0, 0, 0, 0]), Buffer.from('mif1heic'), Buffer.alloc(64),
    ]);
    await expectRejected(heic, 'unsupported-format', /^HEIC images are not supported/);
    const bmp = Buffer.alloc(64);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(40, 14);
    await expectRejected(bmp, 'unsupported-format', /^BMP images are not supported/);
  });

  it('refuses a PNG or JPEG cut in half', async () => {
    const png = await canvas(300, 200).composite([{ input: await canvas(50, 50, '#f00').png().toBuffer(), left: 10, top: 10 }]).png().toBuffer();
    const jpeg = await canvas(300, 200).jpeg().toBuffer();
    await expectRejected(png.subarray(0, png.length / 2), 'corrupt', /PNG file is truncated or damaged/);
    await expectRejected(jpeg.subarray(0, jpeg.length / 2), 'corrupt', /JPEG file is truncated or damaged/);
  });

  it('refuses a file with an image signature and garbage after it', async () => {
    const fake = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('<html>not a png</html>')]);
    await expectRejected(fake, 'corrupt');
  });

  it('refuses a decompression bomb from its header, before decoding it', async () => {
    const bomb = await pngClaiming(30_000, 30_000);
    expect(bomb.length).toBeLessThan(100);
    const started = Date.now();
    const err = await rejection(bomb);
    expect(err.reason).toBe('too-many-pixels');
    expect(err.message).toBe('the image is 30000×30000 pixels (900000000); at most 40000000 pixels are accepted');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses an honest image over the pixel limit', async () => {
    const err = await rejection(await canvas(100, 100).png().toBuffer(), 9_999);
    expect(err.reason).toBe('too-many-pixels');
    expect(await probeImage(await canvas(100, 100).png().toBuffer(), { maxPixels: 10_000 })).toMatchObject({ width: 100 });
  });
});
