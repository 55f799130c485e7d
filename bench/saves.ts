import { performance } from 'node:perf_hooks';
import { api, UnexpectedStatusError, type ApiClient } from './http.js';

export interface SavesResult {
  saves: number;
  ms: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  /** Mean latency of the first and of the last tenth of the saves (does saving slow down?). */
  firstTenthMean: number;
  lastTenthMean: number;
}

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * `count` saves one after another: PATCH /api/v2/pages/<id>/ with a new intro, rotating
 * over `ids`; each must answer 200 with the new intro. Times each round trip.
 */
export async function runSaves(client: ApiClient, ids: readonly number[], count: number): Promise<SavesResult> {
  const latencies: number[] = [];
  const start = performance.now();
  for (let n = 1; n <= count; n++) {
    const id = ids[(n - 1) % ids.length]!;
    const intro = `edit ${n}`;
    const t = performance.now();
    const page = await api<{ intro?: unknown }>(client, 'PATCH', `/api/v2/pages/${id}/`, { body: { intro }, expected: 200 });
    latencies.push(performance.now() - t);
    if (page.intro !== intro) {
      throw new UnexpectedStatusError(`PATCH /api/v2/pages/${id}/ answered 200 but intro is ${JSON.stringify(page.intro)}, expected "${intro}"`);
    }
  }
  const ms = performance.now() - start;
  const tenth = Math.max(1, Math.floor(count / 10));
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    saves: count,
    ms,
    perSecond: count / (ms / 1000),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    firstTenthMean: mean(latencies.slice(0, tenth)),
    lastTenthMean: mean(latencies.slice(-tenth)),
  };
}
