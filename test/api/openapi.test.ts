import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('API description', () => {
  let t: TestApp;
  let spec: Record<string, any>;
  beforeAll(async () => {
    t = await startTestApp('pglite');
    spec = (await t.app.inject({ url: '/docs/json' })).json();
  });
  afterAll(async () => { await t?.close(); });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(spec);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(spec.openapi).toBe('3.1.0');
  });

  it('describes every page route', () => {
    const paths = Object.keys(spec.paths);
    for (const p of ['/api/v2/pages/', '/api/v2/pages/{id}/', '/api/v2/pages/find/', '/api/v2/pages/{id}/publish/', '/api/v2/pages/{id}/unpublish/',
      '/api/v2/pages/{id}/move/', '/api/v2/pages/{id}/revert/', '/api/v2/pages/{id}/revisions/', '/api/v2/pages/{id}/revisions/{rid}/',
      '/api/v2/pages/{id}/revisions/{a}/compare/{b}/', '/content.git/info/refs', '/healthz', '/readyz']) {
      expect(paths).toContain(p);
    }
    expect(Object.keys(spec.paths['/api/v2/pages/{id}/'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
  });

  it('is generated from the block and page-type schemas', () => {
    const schemas = spec.components.schemas;
    expect(schemas.Block_jupyter.properties.type).toEqual({ enum: ['jupyter'] });
    expect(schemas.BlockValue_jupyter.required).toEqual(['code']);
    expect(schemas.BlockValue_jupyter.properties.kernel.pattern).toBeDefined();
    expect(schemas.BlockValue_quiz.properties.choices.items.properties.type).toEqual({ enum: ['item'] });
    expect(schemas.PageWrite_lesson.properties.body.items.oneOf).toContainEqual({ $ref: '#/components/schemas/Block_exercise' });
    expect(schemas.Page_lesson_index.properties.intro.contentMediaType).toBe('text/html');
    expect(schemas.PageMove.required).toEqual(['parent']);
    expect(schemas.PageCompare.required).toEqual(['page', 'from', 'to', 'stats', 'fields', 'body']);
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await t.app.inject({ url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/swagger/i);
  });
});
