import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentEvent } from '../../src/events/content-event.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('content events', () => {
  let t: TestApp;
  const heard: ContentEvent[] = [];
  beforeAll(async () => {
    t = await startTestApp('pglite');
    t.app.lectern.content.revisions.onEvents((events) => heard.push(...events));
  });
  afterAll(async () => { await t?.close(); });

  const write = async (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => {
    const res = await t.as('editor', { method, url, ...(payload ? { payload } : {}) });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.statusCode === 204 ? null : res.json();
  };
  const take = () => heard.splice(0).map((e) => [e.type, e.page, e.ancestors, e.revision]);

  it('tells what every write did, once it is durable, with the page\'s ancestors', async () => {
    const course = await write('POST', '/api/v2/pages/', { type: 'lesson_index', title: 'Course', publish: true });
    const section = await write('POST', '/api/v2/pages/', { type: 'lesson_index', title: 'Section', parent: course.id });
    const lesson = await write('POST', '/api/v2/pages/', { type: 'lesson', title: 'Lesson', parent: section.id, body: [] });
    expect(take()).toEqual([
      ['revision.created', course.id, [], course.meta.revision], ['page.published', course.id, [], course.meta.revision],
      ['revision.created', section.id, [course.id], section.meta.revision],
      ['revision.created', lesson.id, [course.id, section.id], lesson.meta.revision],
    ]);
    const edited = await write('PATCH', `/api/v2/pages/${lesson.id}/`, { intro: 'New intro' });
    await write('POST', `/api/v2/pages/${lesson.id}/publish/`);
    expect(take()).toEqual([
      ['revision.created', lesson.id, [course.id, section.id], edited.meta.revision],
      ['page.published', lesson.id, [course.id, section.id], edited.meta.revision],
    ]);
    const moved = await write('POST', `/api/v2/pages/${lesson.id}/move/`, { parent: course.id });
    await write('POST', `/api/v2/pages/${lesson.id}/unpublish/`);
    expect(take()).toEqual([
      ['revision.created', lesson.id, [course.id], moved.meta.revision], ['page.moved', lesson.id, [course.id], moved.meta.revision],
      ['page.unpublished', lesson.id, [course.id], null],
    ]);
    await write('DELETE', `/api/v2/pages/${course.id}/`);
    expect(take().sort()).toEqual([
      ['page.deleted', course.id, [], null], ['page.deleted', lesson.id, [course.id], null], ['page.deleted', section.id, [course.id], null],
    ].sort());
  });

  it('tells nothing of a write that was refused', async () => {
    const res = await t.as('editor', { method: 'POST', url: '/api/v2/pages/', payload: { type: 'lesson', title: '' } });
    expect(res.statusCode).toBe(400);
    expect(heard).toEqual([]);
  });
});
