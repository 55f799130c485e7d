/**
 * The baseline of the rendition file workload: `/media/<key>` served from a folder by
 * node:http alone, the way a static file server does it (stat, then stream the file
 * with ETag, immutable cache headers and Content-Length; If-None-Match answers 304).
 * Its own process, as the CMS is: inside the benchmark's process it would share a core
 * with autocannon, and the CMS would be compared with a handicapped baseline.
 *
 * Usage: node --import tsx bench/static-file-server.ts <folder> <port>; prints "ready"
 * once listening on 127.0.0.1.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const [rootArg, portArg] = process.argv.slice(2);
if (!rootArg || !portArg) {
  console.error('usage: static-file-server.ts <folder> <port>');
  process.exit(2);
}
const root = resolve(rootArg);
const TYPES: Record<string, string> = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp', '.avif': 'image/avif', '.gif': 'image/gif' };

const server = createServer((req, res) => {
  void (async () => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = resolve(join(root, path.replace(/^\/media\//, '')));
    const info = path.startsWith('/media/') && file.startsWith(root + sep) ? await stat(file).catch(() => null) : null;
    if (!info?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const headers = {
      etag,
      'cache-control': 'public, max-age=31536000, immutable',
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': String(info.size) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).on('error', (err) => res.destroy(err)).pipe(res);
  })().catch((err: Error) => res.destroy(err));
});

server.listen(Number(portArg), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
