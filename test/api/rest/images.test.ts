import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../../helpers/env.js';
import { multipart } from '../../helpers/multipart.js';
import { startS3Server, type S3Server } from '../../helpers/s3-server.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

/** A photo-like JPEG: red on the left third, blue elsewhere (so crops can be told apart). */
async function photo(width: number, height: number, format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  const red = await sharp({ create: { width: Math.round(width / 3), height, channels: 3, background: '#ff0000' } }).png().toBuffer();
  const img = sharp({ create: { width, height, channels: 3, background: '#0000ff' } }).composite([{ input: red, left: 0, top: 0 }]);
  return format === 'jpeg' ? img.jpeg({ quality: 90 }).toBuffer() : img.png().toBuffer();
}

/** Every file under a folder, relative, for "nothing was left behind". */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      if (name === '.lectern') continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${rel}${name}/`);
      else out.push(`${rel}${name}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

describe.each(DRIVERS)('images (%s)', (driver) => {
  let t: TestApp;
  let media: string;
  beforeAll(async () => {
    t = await startTestApp(driver, { MAX_IMAGE_BYTES: String(2 * 1024 * 1024), MAX_IMAGE_PIXELS: String(30_000_000) });
    media = t.config.media.dir;
  });
  afterAll(async () => { await t?.close(); });

  const upload = async (file: { name: string; data: Buffer | string; type?: string }, fields: Record<string, string> = {}, role: 'editor' | 'reviewer' | null = 'editor') =>
    t.as(role, { method: 'POST', url: '/api/v2/images/', ...(await multipart({ file, ...fields })) });
  const rows = async () => (await t.app.lectern.media.db.query.images.findMany()).length;

  it('uploads an image: 201, Wagtail\'s detail shape, and the original served with long-lived cache headers', async () => {
    const bytes = await photo(1200, 900);
    const res = await upload({ name: 'gradient.jpg', data: bytes, type: 'image/jpeg' }, { title: 'Loss surface', tags: 'optimisation, figures' });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      id: expect.any(Number),
      meta: { type: 'wagtailimages.Image', detail_url: `http://localhost:80/api/v2/images/${body.id}/`, tags: ['optimisation', 'figures'], download_url: expect.stringMatching(/^\/media\/original_images\/.+\.jpg$/) },
      title: 'Loss surface', width: 1200, height: 900,
    });
    expect(res.headers.location).toBe(body.meta.detail_url);
    expect((await t.app.inject({ url: `/api/v2/images/${body.id}/` })).json()).toEqual(body);
    const file = await t.app.inject({ url: body.meta.download_url });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('image/jpeg');
    expect(file.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(file.rawPayload.equals(bytes)).toBe(true);
    const again = await t.app.inject({ url: body.meta.download_url, headers: { 'if-none-match': file.headers.etag as string } });
    expect(again.statusCode).toBe(304);
  });

  it('judges the format by the bytes: a PNG named .jpg and sent as image/jpeg is a PNG', async () => {
    const res = await upload({ name: 'really-a-png.jpg', data: await photo(40, 30, 'png'), type: 'image/jpeg' });
    expect(res.statusCode).toBe(201);
    expect(res.json().meta.download_url).toMatch(/\.png$/);
    expect(res.json().title).toBe('really-a-png');
    expect((await t.app.inject({ url: res.json().meta.download_url })).headers['content-type']).toBe('image/png');
  });

  it('answers the same bytes uploaded twice with the image already there, and stores one copy', async () => {
    const bytes = await photo(64, 48);
    const first = await upload({ name: 'a.jpg', data: bytes });
    const before = files(media);
    const second = await upload({ name: 'b.jpg', data: bytes }, { title: 'Another title' });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ id: first.json().id, title: 'a', meta: { duplicate: true } });
    expect(files(media)).toEqual(before);
  });

  it.each([
    ['an HTML file named .png', { name: 'evil.png', data: '<!doctype html><script>alert(1)</script>', type: 'image/png' }, 'not-an-image'],
    ['an SVG', { name: 'logo.svg', data: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', type: 'image/svg+xml' }, 'svg'],
    ['a zero-byte file', { name: 'empty.png', data: Buffer.alloc(0), type: 'image/png' }, null],
  ] as const)('refuses %s with a clear 400 and keeps nothing', async (_what, file, reason) => {
    const [count, before] = [await rows(), files(media)];
    const res = await upload(file);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ errors: [{ path: '/file' }], ...(reason ? { code: 'CMS_ERR_IMAGE_INVALID', reason } : { code: 'CMS_ERR_MEDIA_EMPTY_FILE' }) });
    expect([await rows(), files(media)]).toEqual([count, before]);
  });

  it('refuses a truncated image and a decompression bomb, keeping nothing', async () => {
    const [count, before] = [await rows(), files(media)];
    const whole = await photo(800, 600, 'png');
    const cut = await upload({ name: 'cut.png', data: whole.subarray(0, Math.floor(whole.length / 2)) });
    expect(cut.statusCode).toBe(400);
    expect(cut.json()).toMatchObject({ code: 'CMS_ERR_IMAGE_INVALID', reason: 'corrupt' });
    // 8000 × 8000 = 64 megapixels of one colour: a few kilobytes of PNG.
    const bomb = await sharp({ create: { width: 8000, height: 8000, channels: 3, background: '#000' } }).png({ compressionLevel: 9 }).toBuffer();
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const refused = await upload({ name: 'bomb.png', data: bomb });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'CMS_ERR_IMAGE_INVALID', reason: 'too-many-pixels' });
    expect([await rows(), files(media)]).toEqual([count, before]);
  });

  it('refuses a wrong form: another field name, no file, an unknown field, not multipart, a file over MAX_IMAGE_BYTES', async () => {
    const [count, before] = [await rows(), files(media)];
    const other = await t.as('editor', { method: 'POST', url: '/api/v2/images/', ...(await multipart({ image: { name: 'x.jpg', data: await photo(10, 10) } })) });
    expect(other.statusCode).toBe(400);
    expect(other.json()).toMatchObject({ errors: [{ path: '/image' }] });
    const none = await t.as('editor', { method: 'POST', url: '/api/v2/images/', ...(await multipart({ title: 'no file' })) });
    expect(none.json()).toMatchObject({ statusCode: 400, errors: [{ path: '/file', message: 'is required' }] });
    const unknown = await upload({ name: 'x.jpg', data: await photo(10, 10) }, { colour: 'red' });
    expect(unknown.json()).toMatchObject({ statusCode: 400, errors: [{ path: '/colour' }] });
    const json = await t.as('editor', { method: 'POST', url: '/api/v2/images/', payload: { file: 'x' } });
    expect(json.statusCode).toBe(415);
    const big = await upload({ name: 'big.bin', data: Buffer.alloc(3 * 1024 * 1024, 1) });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'CMS_ERR_MEDIA_FILE_TOO_LARGE' });
    const badFocal = await upload({ name: 'f.jpg', data: await photo(100, 80) }, { focal_point_x: '500', focal_point_y: 'abc' });
    expect(badFocal.json().errors.map((e: { path: string }) => e.path).sort()).toEqual(['/focal_point_x', '/focal_point_y']);
    expect([await rows(), files(media)]).toEqual([count, before]);
  });

  it('lets editors upload and delete, not reviewers or anonymous callers', async () => {
    const data = await photo(20, 20);
    expect((await upload({ name: 'x.jpg', data }, {}, null)).statusCode).toBe(401);
    expect((await upload({ name: 'x.jpg', data }, {}, 'reviewer')).statusCode).toBe(403);
    expect((await t.as('reviewer', { method: 'DELETE', url: '/api/v2/images/1/' })).statusCode).toBe(403);
  });

  it('lists images as Wagtail does: fields, filters, tags, search, order, pagination and its error messages', async () => {
    const list = (qs: string) => t.app.inject({ url: `/api/v2/images/${qs}` });
    const all = (await list('?limit=20')).json();
    expect(all.meta.total_count).toBeGreaterThanOrEqual(3);
    expect(Object.keys(all.items[0])).toEqual(['id', 'meta', 'title']);
    expect(Object.keys((await list('?fields=width,height')).json().items[0])).toEqual(['id', 'meta', 'title', 'width', 'height']);
    expect((await list('?fields=_,title')).json().items[0]).toEqual({ title: expect.any(String) });
    expect((await list('?title=Loss%20surface')).json().items.map((i: { title: string }) => i.title)).toEqual(['Loss surface']);
    expect((await list('?tags=figures')).json().meta.total_count).toBe(1);
    expect((await list('?search=surface')).json().items[0].title).toBe('Loss surface');
    expect((await list('?search=optimisation')).json().items[0].title).toBe('Loss surface');
    const ids = (await list('?order=-id')).json().items.map((i: { id: number }) => i.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect((await list('?width=1200')).json().items.map((i: { title: string }) => i.title)).toEqual(['Loss surface']);
    expect((await list('?limit=1&offset=1')).json().items).toHaveLength(1);
    expect((await list('?foo=1')).json()).toMatchObject({ message: 'query parameter is not an operation or a recognised field: foo' });
    expect((await list('?limit=1000')).json()).toMatchObject({ message: 'limit cannot be higher than 20' });
    expect((await list('?width=wide')).json().message).toBe("field filter error. 'wide' is not a valid value for width (invalid literal for int() with base 10: 'wide')");
    expect((await list('?order=colour')).json().message).toBe("cannot order by 'colour' (unknown field)");
    expect((await list('?fields=colour')).json().message).toMatch(/unknown fields: colour/);
    const find = await t.app.inject({ url: `/api/v2/images/find/?id=${ids[0]}` });
    expect(find.statusCode).toBe(302);
    expect(find.headers.location).toBe(`http://localhost:80/api/v2/images/${ids[0]}/`);
    expect((await t.app.inject({ url: '/api/v2/images/find/?id=99999' })).json()).toMatchObject({ statusCode: 404, message: 'not found' });
    expect((await t.app.inject({ url: '/api/v2/images/99999/' })).json()).toMatchObject({ statusCode: 404, message: 'No Image matches the given query.' });
  });
});

describe.each(DRIVERS)('renditions (%s)', (driver) => {
  let t: TestApp;
  let image: { id: number };
  let focused: { id: number };
  beforeAll(async () => {
    t = await startTestApp(driver);
    const bytes = await photo(1200, 900);
    image = (await t.as('editor', { method: 'POST', url: '/api/v2/images/', ...(await multipart({ file: { name: 'p.jpg', data: bytes } })) })).json();
    // The same picture with the red third as its subject (a new file: other bytes).
    const other = await sharp(bytes).jpeg({ quality: 80 }).toBuffer();
    focused = (await t.as('editor', { method: 'POST', url: '/api/v2/images/', ...(await multipart({ file: { name: 'f.jpg', data: other }, focal_point_x: '200', focal_point_y: '450', focal_point_width: '400', focal_point_height: '900' })) })).json();
  });
  afterAll(async () => { await t?.close(); });

  const rendition = async (id: number, spec: string) => {
    const res = await t.app.inject({ url: `/api/v2/images/${id}/renditions/${encodeURIComponent(spec)}` });
    if (res.statusCode !== 302) return { res, file: null, meta: null };
    const file = await t.app.inject({ url: new URL(res.headers.location as string).pathname });
    return { res, file, meta: await sharp(file.rawPayload).metadata() };
  };

  it.each([
    ['fill-400x225', 400, 225, 'jpeg'],
    ['width-300', 300, 225, 'jpeg'],
    ['height-90', 120, 90, 'jpeg'],
    ['max-200x200', 200, 150, 'jpeg'],
    ['min-200x200', 266, 200, 'jpeg'],
    ['scale-50', 600, 450, 'jpeg'],
    ['width-5000', 1200, 900, 'jpeg'],
    ['fill-2000x1000', 1200, 600, 'jpeg'],
    ['original|format-webp', 1200, 900, 'webp'],
    ['fill-160x90|format-avif', 160, 90, 'heif'],
    ['width-100|format-png', 100, 75, 'png'],
  ])('%s → %i×%i %s, served from a stable URL with long-lived cache headers', async (spec, width, height, format) => {
    const { res, file, meta } = await rendition(image.id, spec);
    expect(res.statusCode, res.body).toBe(302);
    expect(meta).toMatchObject({ width, height, format });
    expect(file!.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(file!.headers.etag).toBeTruthy();
  });

  it('makes a rendition once: the second request finds it, concurrent first requests share one making', async () => {
    const storage = t.app.lectern.media.storage;
    const put = storage.put.bind(storage);
    let puts = 0;
    storage.put = (...args) => { puts++; return put(...args); };
    try {
      const answers = await Promise.all(Array.from({ length: 8 }, () => t.app.inject({ url: `/api/v2/images/${image.id}/renditions/fill-321x123` })));
      expect(new Set(answers.map((a) => a.headers.location)).size).toBe(1);
      expect(puts).toBe(1);
      const again = await t.app.inject({ url: `/api/v2/images/${image.id}/renditions/fill-321x123` });
      expect(again.headers.location).toBe(answers[0]!.headers.location);
      expect(puts).toBe(1);
    } finally {
      storage.put = put;
    }
    const made = await t.app.lectern.media.db.query.imageRenditions.findMany();
    expect(made.filter((r) => r.imageId === image.id && r.filterSpec === 'fill-321x123')).toHaveLength(1);
  });

  it('crops around the focal point', async () => {
    const centred = await rendition(image.id, 'fill-300x900');
    const onSubject = await rendition(focused.id, 'fill-300x900');
    const redShare = async (buf: Buffer) => {
      const { data, info } = await sharp(buf).raw().toBuffer({ resolveWithObject: true });
      let red = 0;
      for (let i = 0; i < data.length; i += info.channels) if (data[i]! > 200 && data[i + 2]! < 60) red++;
      return red / (info.width * info.height);
    };
    expect(await redShare(centred.file!.rawPayload)).toBeLessThan(0.05);
    expect(await redShare(onSubject.file!.rawPayload)).toBeGreaterThan(0.9);
  });

  it('refuses a bad filter spec with 400 naming the bad part, and unknown images with 404', async () => {
    const bad = (await rendition(image.id, 'fill-10')).res;
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'CMS_ERR_IMAGE_BAD_FILTER_SPEC', part: 'fill-10', errors: [{ path: '/spec' }] });
    const unknown = (await rendition(image.id, 'width-100|sepia')).res;
    expect(unknown.json()).toMatchObject({ statusCode: 400, part: 'sepia' });
    expect(unknown.json().message).toContain('sepia');
    expect((await rendition(999_999, 'width-100')).res.statusCode).toBe(404);
  });
});

describe('images on S3-compatible storage', () => {
  let s3: S3Server;
  let t: TestApp;
  beforeAll(async () => {
    s3 = await startS3Server();
    t = await startTestApp('pglite', {
      MEDIA_STORAGE: 's3', S3_ENDPOINT: s3.endpoint, S3_BUCKET: s3.bucket, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    });
  });
  afterAll(async () => { await t?.close(); await s3?.close(); });

  it('stores originals and renditions in the bucket, serves them, and deletes them with the image', async () => {
    const bytes = await photo(600, 400);
    const up = (await t.as('editor', { method: 'POST', url: '/api/v2/images/', ...(await multipart({ file: { name: 'p.jpg', data: bytes } })) })).json();
    const original = await t.app.inject({ url: up.meta.download_url });
    expect(original.rawPayload.equals(bytes)).toBe(true);
    const r = await t.app.inject({ url: `/api/v2/images/${up.id}/renditions/width-100` });
    const key = new URL(r.headers.location as string).pathname.replace(/^\/media\//, '');
    expect(await t.app.lectern.media.storage.exists(key)).toBe(true);
    expect((await sharp((await t.app.inject({ url: `/media/${key}` })).rawPayload).metadata()).width).toBe(100);
    expect((await t.as('editor', { method: 'DELETE', url: `/api/v2/images/${up.id}/` })).statusCode).toBe(204);
    expect(await t.app.lectern.media.storage.exists(key)).toBe(false);
    expect((await t.app.inject({ url: up.meta.download_url })).statusCode).toBe(404);
  });
});

describe('renditions anyone may ask for', () => {
  let t: TestApp;
  let id: number;
  beforeAll(async () => {
    t = await startTestApp('pglite', { MAX_RENDITIONS_PER_IMAGE: '2' });
    id = (await t.as('editor', { method: 'POST', url: '/api/v2/images/', ...(await multipart({ file: { name: 'p.jpg', data: await photo(400, 300) } })) })).json().id;
  });
  afterAll(async () => { await t?.close(); });

  it('stops anonymous callers making more than MAX_RENDITIONS_PER_IMAGE of one image; existing ones are still served, and editors make more', async () => {
    const get = (spec: string, role: 'editor' | null = null) => t.as(role, { url: `/api/v2/images/${id}/renditions/${spec}` });
    expect((await get('width-100')).statusCode).toBe(302);
    expect((await get('width-101')).statusCode).toBe(302);
    const refused = await get('width-102');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'CMS_ERR_IMAGE_RENDITION_LIMIT' });
    expect((await get('width-100')).statusCode).toBe(302);
    expect((await get('width-102', 'editor')).statusCode).toBe(302);
    expect((await get('width-102')).statusCode).toBe(302);
  });
});
