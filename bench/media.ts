import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { send, UnexpectedStatusError, type ApiClient } from './http.js';
import { runReadScenario, type LoadResult, type LoadSettings } from './load.js';
import { photoJpeg, sizeLabel, type Size } from './photos.js';
import { readLine } from './report.js';
import { percentile } from './saves.js';
import { freePort, REPO_ROOT, ServerProcess } from './server-process.js';

/** The rendition the issue times: a 16:9 crop for a lesson's header. */
export const RENDITION_SPEC = 'fill-800x450';
const RENDITION_SIZE: Size = { width: 800, height: 450 };
const MB = 1024 * 1024;

export interface MediaBenchOptions {
  /** Distinct large photos: each is uploaded, then its rendition made by a first request. */
  images: number;
  size: Size;
  /** Sequential requests for renditions that exist already (302 without image work). */
  renditionRequests: number;
  /** Distinct photos per upload throughput run; 0 skips those runs. */
  uploads: number;
  uploadSize: Size;
  /** Uploads in flight in the second throughput run; 1 runs the sequential one only. */
  uploadConcurrency: number;
  /** The autocannon runs on the rendition file and its static baseline. */
  load: LoadSettings;
}

export interface Latency {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

export interface UploadRun {
  size: Size;
  uploads: number;
  inFlight: number;
  /** Mean size of the JPEG files (not of the multipart bodies). */
  avgFileBytes: number;
  /** Wall time of the whole run. */
  ms: number;
  perSecond: number;
  /** File bytes per second, in MB (2^20 bytes). */
  mbPerSecond: number;
  latency: Latency;
}

export interface MediaBenchResult {
  spec: string;
  /** The large photos uploaded one after another before their renditions. */
  largeUploads: UploadRun;
  /** The request that makes each rendition (image work), one per image. */
  firstRendition: Latency;
  /** Requests for renditions that exist (a lookup and a 302). */
  cachedRendition: Latency;
  avgRenditionBytes: number;
  /** The rendition files under autocannon: the CMS's /media/…, then the same bytes from a static file server. */
  file: LoadResult;
  staticFile: LoadResult;
  uploads: UploadRun[];
}

/** A registered process: run.ts stops it on cleanup and kills it on a hard exit. */
export interface Stoppable {
  stop(): Promise<void>;
  killSync(): void;
}

function latency(ms: readonly number[]): Latency {
  const s = [...ms].sort((a, b) => a - b);
  return { samples: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? NaN };
}

interface Upload {
  body: Buffer;
  contentType: string;
  fileBytes: number;
}

/**
 * The multipart body of an upload, made by the platform's FormData, so that building it
 * stays out of the timing and its encoding is a browser's.
 */
async function uploadBody(jpeg: Buffer, title: string): Promise<Upload> {
  const form = new FormData();
  form.append('title', title);
  form.append('file', new Blob([jpeg], { type: 'image/jpeg' }), `${title.replace(/\W+/g, '-')}.jpg`);
  const req = new Request('http://bench.invalid/api/v2/images/', { method: 'POST', body: form });
  return { body: Buffer.from(await req.arrayBuffer()), contentType: req.headers.get('content-type')!, fileBytes: jpeg.length };
}

/**
 * `count` distinct photos of `size` as upload bodies; seeds from `firstSeed` on. Two at
 * a time: one's JavaScript (the grain) runs while the other's libvips work does.
 */
async function photoUploads(size: Size, count: number, firstSeed: number, label: string): Promise<Upload[]> {
  const out: Upload[] = [];
  let next = 0;
  await Promise.all([0, 1].map(async () => {
    while (next < count) {
      const k = next++;
      out[k] = await uploadBody(await photoJpeg(size, firstSeed + k), `${label} ${k + 1}`);
    }
  }));
  return out;
}

/**
 * Uploads every body, `inFlight` at a time, each one timed. Every answer must be 201
 * (a new image: 200 would mean bytes the server already had, and none of its work)
 * with the photo's dimensions. Returns the figures and the new images' ids in order.
 */
async function uploadAll(client: ApiClient, uploads: readonly Upload[], size: Size, inFlight: number): Promise<{ run: UploadRun; ids: number[] }> {
  const ms: number[] = [];
  const ids: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, uploads.length) }, async () => {
    while (next < uploads.length) {
      const k = next++;
      const u = uploads[k]!;
      const t = performance.now();
      const res = await send(client, 'POST', '/api/v2/images/', { headers: { 'content-type': u.contentType, accept: 'application/json' }, body: u.body, expected: 201 });
      ms.push(performance.now() - t);
      const image = JSON.parse(res.body.toString('utf8')) as { id?: unknown; width?: unknown; height?: unknown };
      if (typeof image.id !== 'number' || image.width !== size.width || image.height !== size.height) {
        throw new UnexpectedStatusError(`POST /api/v2/images/ answered 201 with id ${String(image.id)}, ${String(image.width)}×${String(image.height)}; expected a new ${sizeLabel(size)} image`);
      }
      ids[k] = image.id;
    }
  }));
  const wall = performance.now() - start;
  const bytes = uploads.reduce((sum, u) => sum + u.fileBytes, 0);
  return {
    ids,
    run: {
      size, uploads: uploads.length, inFlight, avgFileBytes: bytes / uploads.length, ms: wall,
      perSecond: uploads.length / (wall / 1000), mbPerSecond: bytes / MB / (wall / 1000), latency: latency(ms),
    },
  };
}

const renditionPath = (id: number) => `/api/v2/images/${id}/renditions/${encodeURIComponent(RENDITION_SPEC)}`;

/**
 * One rendition request, anonymous as a frontend's, redirect not followed: must answer
 * 302 to a file of this server under /media/renditions/ (the benchmark owns
 * MEDIA_PUBLIC_URL, so no CDN stands between) with the rendition's size in headers.
 * Returns the file's path and how long the 302 took.
 */
async function requestRendition(client: ApiClient, id: number): Promise<{ path: string; ms: number }> {
  const t = performance.now();
  const res = await send(client, 'GET', renditionPath(id), { expected: 302, auth: false });
  const ms = performance.now() - t;
  const location = res.headers.location ?? '';
  const url = new URL(location, client.baseUrl);
  if (url.origin !== new URL(client.baseUrl).origin || !url.pathname.startsWith('/media/renditions/')) {
    throw new UnexpectedStatusError(`GET ${renditionPath(id)} answered 302 to "${location}", not to this server's /media/renditions/`);
  }
  const w = res.headers['x-rendition-width'];
  const h = res.headers['x-rendition-height'];
  if (w !== String(RENDITION_SIZE.width) || h !== String(RENDITION_SIZE.height)) {
    throw new UnexpectedStatusError(`GET ${renditionPath(id)} answered a ${String(w)}×${String(h)} rendition, expected ${sizeLabel(RENDITION_SIZE)}`);
  }
  return { path: url.pathname, ms };
}

/**
 * The baseline server (bench/static-file-server.ts) as a child process, serving a
 * temporary folder of files; `stop()` ends it and deletes the folder.
 */
class StaticFileServer implements Stoppable {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private dir: string | null = null;
  private port = 0;
  private stopping: Promise<void> | null = null;

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Writes `files` (key: path under /media/) and starts serving them. */
  async start(files: readonly { key: string; bytes: Buffer }[]): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'lectern-bench-static-'));
    for (const f of files) {
      const path = join(this.dir, f.key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.bytes);
    }
    this.port = await freePort();
    if (this.stopping) throw new Error('the static file server was stopped before it started');
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/static-file-server.ts', this.dir, String(this.port)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the static file server did not start within 30 s: ${output}`)), 30_000);
      child.stderr!.setEncoding('utf8').on('data', (s: string) => { output += s; });
      child.stdout!.setEncoding('utf8').on('data', (s: string) => {
        output += s;
        if (output.includes('ready')) { clearTimeout(timer); resolve(); }
      });
      child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`the static file server exited (code ${code}, signal ${signal}): ${output.slice(0, 500)}`)); });
    });
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    this.child = null;
    if (this.dir) {
      await rm(this.dir, { recursive: true, force: true });
      this.dir = null;
    }
  }

  killSync(): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The media workloads of issue 5 against a CMS on PGlite: renditions of large photos
 * (made on the first request, a 302 afterwards), the rendition file under load next to
 * the same bytes from a static file server ("a cached rendition must be served at the
 * speed of a static file"), and upload throughput.
 */
export async function runMediaBench(opts: MediaBenchOptions, register: (s: Stoppable) => void, log: (line: string) => void): Promise<MediaBenchResult> {
  // All photos first, so that encoding them (libvips on every core) overlaps no timing.
  const runs = opts.uploads > 0 ? (opts.uploadConcurrency > 1 ? 2 : 1) : 0;
  let t = performance.now();
  const large = await photoUploads(opts.size, opts.images, 1, `Bench photo ${sizeLabel(opts.size)}`);
  const small = await photoUploads(opts.uploadSize, opts.uploads * runs, 1_000_001, `Bench upload ${sizeLabel(opts.uploadSize)}`);
  const avg = (us: readonly Upload[]) => us.reduce((s, u) => s + u.fileBytes, 0) / us.length / MB;
  log(`  generated ${opts.images} × ${sizeLabel(opts.size)} JPEGs (~${avg(large).toFixed(2)} MB each)`
    + (small.length ? ` and ${small.length} × ${sizeLabel(opts.uploadSize)} (~${(avg(small) * 1024).toFixed(0)} KB each)` : '')
    + ` in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const server = new ServerProcess();
  register(server);
  t = performance.now();
  await server.start({ databaseUrl: null });
  log(`  server pid ${server.pid} ready at ${server.baseUrl} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const client: ApiClient = { baseUrl: server.baseUrl, token: server.adminToken };

  const { run: largeUploads, ids } = await uploadAll(client, large, opts.size, 1);
  log(`  uploaded ${ids.length} × ${sizeLabel(opts.size)} one after another: p50 ${largeUploads.latency.p50.toFixed(1)} ms, p99 ${largeUploads.latency.p99.toFixed(1)} ms (${largeUploads.mbPerSecond.toFixed(1)} MB/s)`);

  const first: number[] = [];
  const paths: string[] = [];
  for (const id of ids) {
    const r = await requestRendition(client, id);
    first.push(r.ms);
    paths.push(r.path);
  }
  const firstRendition = latency(first);
  log(`  ${RENDITION_SPEC}, first request (made with sharp) of each image: ${first.map((ms) => ms.toFixed(0)).join(', ')} ms; p50 ${firstRendition.p50.toFixed(1)} ms, p99 ${firstRendition.p99.toFixed(1)} ms`);

  // One untimed pass: the timed requests are the steady state of a rendition that exists.
  for (const id of ids) await requestRendition(client, id);
  const cached: number[] = [];
  for (let i = 0; i < opts.renditionRequests; i++) {
    const k = i % ids.length;
    const r = await requestRendition(client, ids[k]!);
    if (r.path !== paths[k]) throw new UnexpectedStatusError(`GET ${renditionPath(ids[k]!)} redirected to ${r.path}, not to the rendition made first (${paths[k]})`);
    cached.push(r.ms);
  }
  const cachedRendition = latency(cached);
  log(`  ${RENDITION_SPEC}, cached (302), ${opts.renditionRequests} sequential requests: p50 ${cachedRendition.p50.toFixed(2)} ms, p99 ${cachedRendition.p99.toFixed(2)} ms, max ${cachedRendition.max.toFixed(2)} ms`);

  // The files must be the JPEGs asked for, and the baseline serves exactly these bytes.
  const files: { key: string; bytes: Buffer }[] = [];
  let cacheControl = '';
  for (const path of paths) {
    const res = await send(client, 'GET', path, { expected: 200, auth: false });
    const meta = await sharp(res.body).metadata();
    if (meta.format !== 'jpeg' || meta.width !== RENDITION_SIZE.width || meta.height !== RENDITION_SIZE.height || !String(res.headers['content-type']).startsWith('image/jpeg')) {
      throw new UnexpectedStatusError(`GET ${path} answered a ${meta.format} of ${meta.width}×${meta.height} as ${res.headers['content-type']}; expected a ${sizeLabel(RENDITION_SIZE)} JPEG`);
    }
    files.push({ key: decodeURIComponent(path).slice('/media/'.length), bytes: res.body });
    cacheControl = String(res.headers['cache-control']);
  }
  const avgRenditionBytes = files.reduce((s, f) => s + f.bytes.length, 0) / files.length;
  const { load } = opts;
  log(`  rendition files (~${(avgRenditionBytes / 1024).toFixed(0)} KB, cache-control "${cacheControl}"): `
    + `autocannon, ${load.connections} connections, ${load.duration} s after a ${load.warmup} s warm-up, rotating over the ${paths.length} files`);
  const file = await runReadScenario(server.baseUrl, { name: 'CMS /media/', paths }, load);
  log(readLine(file));
  const baseline = new StaticFileServer();
  register(baseline);
  await baseline.start(files);
  const staticFile = await runReadScenario(baseline.baseUrl, { name: 'static file', paths }, load);
  log(readLine(staticFile));
  await baseline.stop();

  const uploads: UploadRun[] = [];
  for (let r = 0; r < runs; r++) {
    const inFlight = r === 0 ? 1 : opts.uploadConcurrency;
    const { run } = await uploadAll(client, small.slice(r * opts.uploads, (r + 1) * opts.uploads), opts.uploadSize, inFlight);
    uploads.push(run);
    log(`  ${run.uploads} uploads of ${sizeLabel(run.size)}, ${inFlight === 1 ? 'one after another' : `${inFlight} in flight`}: `
      + `${run.perSecond.toFixed(1)} uploads/s, ${run.mbPerSecond.toFixed(1)} MB/s, p50 ${run.latency.p50.toFixed(1)} ms, p99 ${run.latency.p99.toFixed(1)} ms`);
  }

  await server.stop();
  return { spec: RENDITION_SPEC, largeUploads, firstRendition, cachedRendition, avgRenditionBytes, file, staticFile, uploads };
}
