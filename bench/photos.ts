import sharp from 'sharp';

export interface Size {
  width: number;
  height: number;
}

export const sizeLabel = (s: Size) => `${s.width}×${s.height}`;

/**
 * Amplitude of the per-pixel grain, in levels of 255. Grain is what a JPEG of a photo
 * spends its bytes on; at quality 85 this gives ~2.5 MB for 4000×3000 and ~420 KB for
 * 1600×1200, the sizes of a camera's and of a web editor's photos.
 */
const GRAIN = 28;
/** The smooth part is drawn this many times smaller and enlarged by libvips: far cheaper than per-pixel sines. */
const COARSE = 16;

/** xorshift32: seeded, so photo k is the same bytes on every run and the figures compare across runs. */
function xorshift(seed: number): () => number {
  let s = Math.imul(seed + 1, 0x9e3779b1) >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

/**
 * A photo-like JPEG (quality 85): a diagonal gradient between two colours, soft blobs
 * from a few sine waves, and film grain. Different seeds give different bytes (the CMS
 * answers an upload of bytes it already has as a duplicate, without the work of a new
 * image), and content a real photo's encoder and decoder work about as hard on, which a
 * flat colour (tiny file) or pure noise (huge file) would not.
 */
export async function photoJpeg(size: Size, seed: number): Promise<Buffer> {
  const next = xorshift(seed);
  const unit = () => next() / 2 ** 32;
  const cw = Math.ceil(size.width / COARSE);
  const ch = Math.ceil(size.height / COARSE);
  const from = [unit() * 255, unit() * 255, unit() * 255];
  const to = [unit() * 255, unit() * 255, unit() * 255];
  const waves = Array.from({ length: 8 }, () => ({
    fx: (unit() - 0.5) * 0.2, fy: (unit() - 0.5) * 0.2, phase: unit() * 2 * Math.PI, amp: 20 + unit() * 30, channel: Math.floor(unit() * 3),
  }));
  const coarse = Buffer.alloc(cw * ch * 3);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      const t = (x / cw + y / ch) / 2;
      for (let c = 0; c < 3; c++) {
        let v = from[c]! * (1 - t) + to[c]! * t;
        for (const w of waves) if (w.channel === c || w.channel === 2 - c) v += w.amp * Math.sin(w.fx * x + w.fy * y + w.phase);
        coarse[(y * cw + x) * 3 + c] = Math.max(0, Math.min(255, v));
      }
    }
  }
  const pixels = await sharp(coarse, { raw: { width: cw, height: ch, channels: 3 } })
    // Bilinear: under the grain it looks as smooth as bicubic, in half the time.
    .resize(size.width, size.height, { kernel: 'linear', fit: 'fill' }).raw().toBuffer();
  // Triangular grain in [-GRAIN, GRAIN] from two bytes of each draw; xorshift32 inline,
  // as this loop runs 36 million times for 4000×3000.
  let r = next();
  for (let i = 0; i < pixels.length; i++) {
    r ^= r << 13; r >>>= 0;
    r ^= r >>> 17;
    r ^= r << 5; r >>>= 0;
    const v = pixels[i]! + (((r & 0xff) + ((r >>> 8) & 0xff) - 255) * GRAIN) / 255;
    pixels[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return sharp(pixels, { raw: { width: size.width, height: size.height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}
