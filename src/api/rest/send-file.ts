import type { FastifyReply, FastifyRequest } from 'fastify';
import { asClientError } from '../../media/media-files.js';
import type { ByteRange, Storage } from '../../media/storage/storage.js';
import { matchesIfNoneMatch } from './etag.js';

export interface FileResponse {
  key: string;
  contentType: string;
  /** The file's size when the caller knows it (a suffix range needs it); else the storage says. */
  size?: number;
  etag: string;
  cacheControl: string;
  /** Content-Disposition, for downloads. */
  disposition?: string;
}

/**
 * Sends a stored file with ETag / If-None-Match (304), single byte ranges (206, and 416
 * when the range is not in the file) and HEAD. Several ranges in one request get the
 * whole file, which RFC 9110 allows.
 */
export async function sendStoredFile(req: FastifyRequest, reply: FastifyReply, storage: Storage, file: FileResponse): Promise<FastifyReply> {
  reply.header('etag', file.etag)
    .header('cache-control', file.cacheControl)
    .header('accept-ranges', 'bytes')
    .header('x-content-type-options', 'nosniff');
  if (file.disposition) reply.header('content-disposition', file.disposition);
  if (matchesIfNoneMatch(req.headers['if-none-match'], file.etag)) return reply.code(304).send();

  let range: ByteRange | undefined;
  const ifRange = req.headers['if-range'];
  if (req.headers.range && (ifRange === undefined || ifRange === file.etag)) {
    const parsed = parseRange(req.headers.range);
    if (parsed && 'suffix' in parsed) {
      const size = file.size ?? (await storage.stat(file.key).catch((err) => { throw asClientError(err); }))?.size;
      if (size !== undefined) range = parsed.suffix === 0 ? { start: size, end: size } : { start: Math.max(0, size - parsed.suffix), end: Infinity };
    } else if (parsed) {
      range = parsed;
    }
  }
  const object = await storage.get(file.key, range).catch((err) => { throw asClientError(err); });
  reply.type(file.contentType);
  if (object.range) {
    reply.code(206)
      .header('content-range', `bytes ${object.range.start}-${object.range.end}/${object.size}`)
      .header('content-length', String(object.range.end - object.range.start + 1));
  } else {
    reply.code(200).header('content-length', String(object.size));
  }
  if (req.method === 'HEAD') {
    object.stream.destroy();
    return reply.send();
  }
  return reply.send(object.stream);
}

/** One range of a `Range: bytes=…` header, or null when it is absent, malformed or several. */
function parseRange(header: string): ByteRange | { suffix: number } | null {
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') return { suffix: Number(m[2]) };
  const start = Number(m[1]);
  const end = m[2] === '' ? Infinity : Number(m[2]);
  if (!Number.isSafeInteger(start) || end < start) return null;
  return { start, end };
}
