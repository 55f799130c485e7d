import { performance } from 'node:perf_hooks';
import { api, UnexpectedStatusError, type ApiClient } from './http.js';
import { lessonPayload } from './lessons.js';

export interface SeededLesson {
  id: number;
  slug: string;
}

export interface SeedResult {
  lessons: SeededLesson[];
  ms: number;
  /** Creates per second in each tenth of the run, in order (does the rate fall as pages grow?). */
  tenthRates: number[];
  /** Average size of the request bodies, in bytes. */
  avgPayloadBytes: number;
}

interface CreatedPage {
  id?: unknown;
  meta?: { slug?: unknown };
}

/**
 * Creates `count` published lessons through POST /api/v2/pages/, `concurrency` at a
 * time, and returns their ids and slugs in creation order (lesson i at index i - 1).
 */
export async function seedLessons(client: ApiClient, count: number, concurrency: number, log: (line: string) => void): Promise<SeedResult> {
  const lessons: SeededLesson[] = new Array(count);
  const tenth = Math.max(1, Math.ceil(count / 10));
  const tenthRates: number[] = [];
  let next = 1;
  let done = 0;
  let payloadBytes = 0;
  const start = performance.now();
  let tenthStart = start;
  let failed = false;

  async function worker(): Promise<void> {
    while (!failed && next <= count) {
      const i = next++;
      const payload = lessonPayload(i);
      payloadBytes += Buffer.byteLength(JSON.stringify(payload));
      const page = await api<CreatedPage>(client, 'POST', '/api/v2/pages/', { body: payload, expected: 201 });
      if (typeof page.id !== 'number' || typeof page.meta?.slug !== 'string') {
        throw new UnexpectedStatusError(`POST /api/v2/pages/ for lesson ${i} answered 201 without id and meta.slug: ${JSON.stringify(page).slice(0, 300)}`);
      }
      lessons[i - 1] = { id: page.id, slug: page.meta.slug };
      done++;
      if (done % tenth === 0 || done === count) {
        const now = performance.now();
        const n = done % tenth === 0 ? tenth : done % tenth;
        const rate = n / ((now - tenthStart) / 1000);
        tenthRates.push(rate);
        tenthStart = now;
        log(`  seeded ${String(done).padStart(String(count).length)}/${count}  ${rate.toFixed(1).padStart(7)} creates/s over the last ${n}`);
      }
    }
  }

  // The first failure stops every worker from starting another request.
  const guarded = () => worker().catch((err: unknown) => { failed = true; throw err; });
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, guarded));
  return { lessons, ms: performance.now() - start, tenthRates, avgPayloadBytes: payloadBytes / count };
}
