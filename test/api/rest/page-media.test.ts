import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../../helpers/env.js';
import { multipart } from '../../helpers/multipart.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

describe.each(DRIVERS)('images and documents in pages (%s)', (driver) => {
  let t: TestApp;
  let image: { id: number };
  let doc: { id: number };
  let page: { id: number; meta: { slug: string }; body: { id: string; type: string; value: unknown }[] };
  beforeAll(async () => {
    t = await startTestApp(driver);
    const png = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#3366cc' } }).png().toBuffer();
    image = (await t.as('editor', { method: 'POST', url: '/api/v2/images/', ...(await multipart({ file: { name: 'figure.png', data: png }, title: 'Figure 1' })) })).json();
    doc = (await t.as('editor', { method: 'POST', url: '/api/v2/documents/', ...(await multipart({ file: { name: 'handout.pdf', data: '%PDF-1.4' } })) })).json();
  });
  afterAll(async () => { await t?.close(); });

  it('refuses image and document blocks that point at nothing, naming each block', async () => {
    const res = await t.as('editor', {
      method: 'POST', url: '/api/v2/pages/', payload: {
        type: 'lesson', title: 'Broken refs', body: [
          { type: 'image', value: image.id },
          { type: 'image', value: 4242 },
          { type: 'exercise', value: { title: 'Ex', instructions: [{ type: 'image', value: 777 }] } },
          { type: 'document', value: 778 },
        ],
      },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([
      { path: '/body/1/value', message: 'image: there is no image 4242' },
      { path: '/body/2/value/instructions/0/value', message: 'image: there is no image 777' },
      { path: '/body/3/value', message: 'document: there is no document 778' },
    ]);
    expect((await t.app.inject({ url: '/api/v2/pages/?version=draft', headers: { authorization: `Bearer ${t.tokens.editor}` } })).json().meta.total_count).toBe(0);
  });

  it('keeps Wagtail\'s bare ids by default, and adds rendition URLs and sizes with ?renditions=', async () => {
    const created = await t.as('editor', {
      method: 'POST', url: '/api/v2/pages/', payload: {
        type: 'lesson', title: 'With figures', publish: true,
        body: [{ type: 'paragraph', value: '<p>See:</p>' }, { type: 'image', value: image.id }, { type: 'document', value: doc.id }],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    page = created.json();
    const plain = (await t.app.inject({ url: `/api/v2/pages/${page.id}/` })).json();
    expect(plain.body[1]).toEqual({ type: 'image', value: image.id, id: page.body[1]!.id });
    expect(plain.body[2]).toEqual({ type: 'document', value: doc.id, id: page.body[2]!.id });

    const bySlug = (await t.app.inject({ url: `/api/v2/pages/?type=lesson&slug=${page.meta.slug}&fields=*&renditions=${encodeURIComponent('fill-400x400|format-webp,width-200')}` })).json();
    const block = bySlug.items[0].body[1];
    expect(block).toMatchObject({ type: 'image', value: image.id, image: { id: image.id, title: 'Figure 1', width: 800, height: 600 } });
    expect(block.image.renditions).toEqual({
      'fill-400x400|format-webp': { url: expect.stringContaining(`/api/v2/images/${image.id}/renditions/`), width: 400, height: 400 },
      'width-200': { url: expect.any(String), width: 200, height: 150 },
    });
    // A rendition not made yet links to the endpoint that makes it; it measures what was said.
    const made = await t.app.inject({ url: new URL(block.image.renditions['fill-400x400|format-webp'].url).pathname });
    expect(made.statusCode).toBe(302);
    const file = await t.app.inject({ url: new URL(made.headers.location as string).pathname });
    expect(await sharp(file.rawPayload).metadata()).toMatchObject({ width: 400, height: 400, format: 'webp' });
    // Once made, pages link to the file itself.
    const draft = (await t.as('editor', { url: `/api/v2/pages/${page.id}/?version=draft&renditions=${encodeURIComponent('fill-400x400|format-webp')}` })).json();
    expect(draft.body[1].image.renditions['fill-400x400|format-webp'].url).toBe(made.headers.location);
  });

  it('refuses a bad renditions parameter with 400 naming the bad part', async () => {
    const res = await t.app.inject({ url: `/api/v2/pages/${page.id}/?renditions=fill-10` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'CMS_ERR_IMAGE_BAD_FILTER_SPEC', errors: [{ path: '/renditions' }] });
  });

  it('keeps pages working when their image or document is deleted: the output says it is missing, and editors can still save', async () => {
    const url = `/api/v2/pages/${page.id}/`;
    expect((await t.app.inject({ url })).json().body[1].missing).toBeUndefined(); // now in the read cache
    expect((await t.as('editor', { method: 'DELETE', url: `/api/v2/images/${image.id}/` })).statusCode).toBe(204);
    expect((await t.as('editor', { method: 'DELETE', url: `/api/v2/documents/${doc.id}/` })).statusCode).toBe(204);
    const after = await t.app.inject({ url });
    expect(after.statusCode).toBe(200);
    expect(after.json().body[1]).toEqual({ type: 'image', value: image.id, id: page.body[1]!.id, missing: true });
    expect(after.json().body[2]).toMatchObject({ type: 'document', value: doc.id, missing: true });
    const withRenditions = (await t.app.inject({ url: `${url}?renditions=width-100` })).json();
    expect(withRenditions.body[1]).toMatchObject({ missing: true, image: null });
    const edit = await t.as('editor', { method: 'PATCH', url, payload: { intro: 'Still editable' } });
    expect(edit.statusCode, edit.body).toBe(200);
  });
});
