import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { repack } from '../src/history/repack.js';
import { api, UnexpectedStatusError, type ApiClient } from './http.js';
import { percentile } from './saves.js';

const run = promisify(execFile);

/** One timed history request: p50/p99 over `samples` sequential requests. */
export interface HistoryTiming {
  name: string;
  samples: number;
  p50: number;
  p99: number;
  /** The target for p50 in ms, if the issue sets one. */
  targetP50?: number;
}

export interface HistoryResult {
  timings: HistoryTiming[];
  revisions: number;
  seedMs: number;
  repack?: { ms: number; looseBefore: number; bytesBefore: number; bytesAfter: number };
  clone?: { ms: number; commits: number };
}

interface Block { type: string; value: unknown; id: string }

async function time(client: ApiClient, name: string, path: string, samples: number, targetP50?: number): Promise<HistoryTiming> {
  await api(client, 'GET', path, { expected: 200 }); // warm
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await api(client, 'GET', path, { expected: 200 });
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { name, samples, p50: percentile(ms, 50), p99: percentile(ms, 99), targetP50 };
}

/** A 300-block lesson and a second revision with 10% of its blocks changed, some moved, a few added and removed. */
async function compareScenario(client: ApiClient, samples: number): Promise<HistoryTiming> {
  const body = Array.from({ length: 300 }, (_, i) => (i % 3 === 0
    ? { type: 'jupyter', value: { code: `import torch\nx = torch.randn(${i}, ${i})\nprint(x.mean())`, kernel: 'python3' } }
    : { type: 'paragraph', value: `<p>Paragraph ${i}: the gradient of the loss tells us which way is <b>downhill</b>; step ${i} moves the weights.</p>` }));
  const page = await api<{ id: number; body: Block[]; meta: { revision: number } }>(client, 'POST', '/api/v2/pages/', {
    body: { type: 'lesson', title: 'A 300-block lesson', body }, expected: 201,
  });
  const next: Block[] = page.body.map((b, i) => (i % 10 === 5
    ? { ...b, value: b.type === 'jupyter' ? { code: `import torch\nx = torch.zeros(${i})\nprint(x)`, kernel: 'python3' } : `<p>Paragraph ${i}, rewritten: the slope says where to go.</p>` }
    : b));
  next.splice(40, 3);
  next.splice(120, 0, { type: 'text', value: 'A new note' } as Block, { type: 'heading', value: 'A new section' } as Block);
  const [moved] = next.splice(200, 1);
  next.splice(10, 0, moved!);
  const second = await api<{ meta: { revision: number } }>(client, 'PATCH', `/api/v2/pages/${page.id}/`, { body: { body: next }, expected: 200 });
  return time(client, 'compare (300 blocks)', `/api/v2/pages/${page.id}/revisions/${page.meta.revision}/compare/${second.meta.revision}/`, samples, 30);
}

/**
 * The history workloads of issue 3: a compare of two revisions of a 300-block lesson;
 * the revision listing and block history of a page with `revisions` revisions; a clone
 * of that repository with git (after `lectern repack`, as an operator would run it).
 */
export async function runHistoryBench(client: ApiClient, gitdir: string, revisions: number, log: (line: string) => void): Promise<HistoryResult> {
  const samples = 100;
  const timings: HistoryTiming[] = [await compareScenario(client, samples)];
  log(timingLine(timings[0]!));

  const page = await api<{ id: number; body: Block[] }>(client, 'POST', '/api/v2/pages/', {
    body: { type: 'lesson', title: 'A page with a long history', body: [
      { type: 'paragraph', value: '<p>Edited in every revision.</p>' },
      { type: 'paragraph', value: '<p>Never edited.</p>' },
      { type: 'jupyter', value: { code: 'print(0)' } },
    ] }, expected: 201,
  });
  const [hot, cold, cell] = page.body as [Block, Block, Block];
  log(`  saving ${revisions} revisions of one page (4 in flight)…`);
  const started = performance.now();
  let next = 1;
  const writer = async () => {
    for (let n = next++; n < revisions; n = next++) {
      const body = [{ ...hot, value: `<p>Edited in every revision: ${n}.</p>` }, cold, n % 100 === 0 ? { ...cell, value: { code: `print(${n})` } } : cell];
      await api(client, 'PATCH', `/api/v2/pages/${page.id}/`, { body: { body }, expected: 200 });
    }
  };
  await Promise.all([writer(), writer(), writer(), writer()]);
  const seedMs = performance.now() - started;
  const listed = await api<{ meta: { total_count: number } }>(client, 'GET', `/api/v2/pages/${page.id}/revisions/?limit=0`, { expected: 200 });
  if (listed.meta.total_count !== revisions) throw new UnexpectedStatusError(`the page has ${listed.meta.total_count} revisions, expected ${revisions}`);
  log(`  ${revisions} revisions in ${(seedMs / 1000).toFixed(1)} s (${(revisions / (seedMs / 1000)).toFixed(0)} saves/s)`);

  for (const [name, path, target] of [
    ['revision listing', `/api/v2/pages/${page.id}/revisions/`, 20],
    [`revision listing, offset ${Math.floor(revisions / 2)}`, `/api/v2/pages/${page.id}/revisions/?offset=${Math.floor(revisions / 2)}`, undefined],
    ['block history (hot)', `/api/v2/pages/${page.id}/blocks/${hot.id}/history/`, 50],
    ['block history (cold)', `/api/v2/pages/${page.id}/blocks/${cold.id}/history/`, 50],
    ['block history (cell)', `/api/v2/pages/${page.id}/blocks/${cell.id}/history/`, 50],
  ] as const) {
    const t = await time(client, name, path, samples, target);
    timings.push(t);
    log(timingLine(t));
  }

  const packed = await repack(gitdir);
  const result: HistoryResult = {
    timings, revisions, seedMs,
    repack: { ms: packed.ms, looseBefore: packed.before.looseObjects, bytesBefore: packed.before.diskBytes, bytesAfter: packed.after.diskBytes },
  };
  log(`  lectern repack: ${packed.before.looseObjects} loose objects, ${(packed.before.diskBytes / 1e6).toFixed(1)} MB → ${(packed.after.diskBytes / 1e6).toFixed(1)} MB in ${(packed.ms / 1000).toFixed(1)} s`);

  const target = mkdtempSync(join(tmpdir(), 'lectern-bench-clone-'));
  try {
    const url = new URL('/content.git', client.baseUrl);
    url.username = 'bench';
    url.password = client.token;
    const t = performance.now();
    await run('git', ['clone', '--quiet', url.toString(), join(target, 'c')], { maxBuffer: 1 << 24 });
    const ms = performance.now() - t;
    const { stdout } = await run('git', ['-C', join(target, 'c'), 'rev-list', '--count', 'origin/main']);
    result.clone = { ms, commits: Number(stdout.trim()) };
    log(`  git clone over HTTP: ${result.clone.commits} commits on main in ${(ms / 1000).toFixed(2)} s`);
  } finally {
    rmSync(target, { recursive: true, force: true });
  }
  return result;
}

export function timingLine(t: HistoryTiming): string {
  const target = t.targetP50 === undefined ? '' : `   target p50 < ${t.targetP50} ms: ${t.p50 < t.targetP50 ? 'met' : 'MISSED'}`;
  return `  ${t.name.padEnd(32)} p50 ${t.p50.toFixed(1).padStart(6)} ms  p99 ${t.p99.toFixed(1).padStart(6)} ms  (${t.samples} sequential requests)${target}`;
}
