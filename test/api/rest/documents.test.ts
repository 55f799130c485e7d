import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../../helpers/env.js';
import { multipart } from '../../helpers/multipart.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${rel}${name}/`);
      else out.push(`${rel}${name}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(4000, 0x41), Buffer.from('\n%%EOF\n')]);

describe.each(DRIVERS)('documents (%s)', (driver) => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(driver, { MAX_DOCUMENT_BYTES: '10000' }); });
  afterAll(async () => { await t?.close(); });

  const upload = async (file: { name: string; data: Buffer | string }, fields: Record<string, string> = {}) =>
    t.as('editor', { method: 'POST', url: '/api/v2/documents/', ...(await multipart({ file, ...fields })) });
  const path = (url: string) => new URL(url).pathname;
  const rows = async () => (await t.app.lectern.media.db.query.documents.findMany()).length;

  it('uploads any file: 201 in Wagtail\'s shape; the download has its Content-Type and the Korean name as RFC 5987', async () => {
    const res = await upload({ name: '딥러닝 강의 자료.pdf', data: pdf }, { tags: 'handout' });
    expect(res.statusCode, res.body).toBe(201);
    const doc = res.json();
    expect(doc).toEqual({
      id: expect.any(Number),
      meta: { type: 'wagtaildocs.Document', detail_url: `http://localhost:80/api/v2/documents/${doc.id}/`, tags: ['handout'], download_url: `http://localhost:80/documents/${doc.id}/${encodeURIComponent('딥러닝 강의 자료.pdf')}` },
      title: '딥러닝 강의 자료',
    });
    const dl = await t.app.inject({ url: path(doc.meta.download_url) });
    expect(dl.statusCode).toBe(200);
    expect(dl.headers['content-type']).toBe('application/pdf');
    expect(dl.headers['content-disposition']).toBe(`attachment; filename="document-${doc.id}.pdf"; filename*=UTF-8''${encodeURIComponent('딥러닝 강의 자료.pdf')}`);
    expect(dl.headers['x-content-type-options']).toBe('nosniff');
    expect(dl.rawPayload.equals(pdf)).toBe(true);
    expect((await t.app.inject({ url: path(doc.meta.download_url), headers: { 'if-none-match': dl.headers.etag as string } })).statusCode).toBe(304);
  });

  it('answers Range requests with 206, suffix ranges too, and 416 outside the file', async () => {
    const doc = (await upload({ name: 'data.csv', data: 'a,b\n1,2\n3,4\n' })).json();
    const get = (range: string) => t.app.inject({ url: path(doc.meta.download_url), headers: { range } });
    const first = await get('bytes=0-3');
    expect(first.statusCode).toBe(206);
    expect(first.headers['content-range']).toBe('bytes 0-3/12');
    expect(first.body).toBe('a,b\n');
    const open = await get('bytes=8-');
    expect([open.statusCode, open.body, open.headers['content-range']]).toEqual([206, '3,4\n', 'bytes 8-11/12']);
    const suffix = await get('bytes=-4');
    expect([suffix.statusCode, suffix.body]).toEqual([206, '3,4\n']);
    const outside = await get('bytes=50-60');
    expect(outside.statusCode).toBe(416);
    expect(outside.headers['content-range']).toBe('bytes */12');
    expect(outside.json()).toMatchObject({ code: 'CMS_ERR_MEDIA_RANGE_NOT_SATISFIABLE' });
    expect((await t.app.inject({ url: path(doc.meta.download_url) })).headers['content-type']).toBe('text/csv');
  });

  it('refuses a file over MAX_DOCUMENT_BYTES with 413 and keeps neither file nor row', async () => {
    const [count, before] = [await rows(), files(t.config.media.dir)];
    const res = await upload({ name: 'big.bin', data: Buffer.alloc(20_000, 7) });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'CMS_ERR_MEDIA_FILE_TOO_LARGE', errors: [{ path: '/file' }] });
    expect([await rows(), files(t.config.media.dir)]).toEqual([count, before]);
  });

  it('refuses an empty file and an unknown field after the file, keeping nothing', async () => {
    const [count, before] = [await rows(), files(t.config.media.dir)];
    expect((await upload({ name: 'empty.txt', data: '' })).json()).toMatchObject({ statusCode: 400, code: 'CMS_ERR_MEDIA_EMPTY_FILE' });
    const extra = await upload({ name: 'a.txt', data: 'hello' }, { colour: 'red' });
    expect(extra.json()).toMatchObject({ statusCode: 400, errors: [{ path: '/colour' }] });
    expect([await rows(), files(t.config.media.dir)]).toEqual([count, before]);
  });

  it('never lets the file name decide where the file goes: ../../etc/passwd, NUL bytes, very long names', async () => {
    const evil = await upload({ name: '../../etc/passwd', data: 'root:x:0:0' });
    expect(evil.statusCode).toBe(201);
    expect(evil.json().meta.download_url).toMatch(/\/documents\/\d+\/passwd$/);
    const nul = await upload({ name: 'a\u0000b.txt', data: 'x' });
    expect(nul.statusCode).toBe(201);
    const long = await upload({ name: `${'가'.repeat(400)}.txt`, data: 'x' });
    expect(long.statusCode).toBe(201);
    const name = decodeURIComponent(long.json().meta.download_url.split('/').pop());
    expect(name.length).toBeLessThanOrEqual(200);
    expect(name.endsWith('.txt')).toBe(true);
    expect((await t.app.inject({ url: path(long.json().meta.download_url) })).statusCode).toBe(200);
    // Every stored file is under documents/ with a name of the CMS's choosing.
    for (const f of files(t.config.media.dir).filter((p) => !p.startsWith('.lectern/'))) expect(f).toMatch(/^documents\/[0-9a-f-]{36}$/);
    expect(existsSync(join(t.config.media.dir, '..', 'etc'))).toBe(false);
  });

  it('lists, finds and deletes documents as Wagtail\'s endpoint does', async () => {
    const list = (await t.app.inject({ url: '/api/v2/documents/?tags=handout' })).json();
    expect(list.meta.total_count).toBe(1);
    expect(Object.keys(list.items[0])).toEqual(['id', 'meta', 'title']);
    const id = list.items[0].id;
    expect((await t.app.inject({ url: `/api/v2/documents/find/?id=${id}` })).headers.location).toBe(`http://localhost:80/api/v2/documents/${id}/`);
    expect((await t.app.inject({ url: '/api/v2/documents/?width=1' })).json().message).toBe('query parameter is not an operation or a recognised field: width');
    expect((await t.as('reviewer', { method: 'DELETE', url: `/api/v2/documents/${id}/` })).statusCode).toBe(403);
    const url = path(list.items[0].meta.download_url);
    expect((await t.as('editor', { method: 'DELETE', url: `/api/v2/documents/${id}/` })).statusCode).toBe(204);
    expect((await t.app.inject({ url })).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/v2/documents/${id}/` })).json()).toMatchObject({ message: 'No Document matches the given query.' });
  });
});
