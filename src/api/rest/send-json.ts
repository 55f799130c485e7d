import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CachedResponse } from './read-cache.js';
import { matchesIfNoneMatch } from './etag.js';

export const PUBLIC_CACHE_CONTROL = 'public, max-age=0, must-revalidate';
export const PRIVATE_CACHE_CONTROL = 'private, no-store';

/** Sends a finished response, answering 304 when the client already has this ETag. */
export function sendPrepared(req: FastifyRequest, reply: FastifyReply, res: CachedResponse) {
  reply.headers(res.headers).header('etag', res.etag);
  if (res.status === 200 && matchesIfNoneMatch(req.headers['if-none-match'], res.etag)) {
    return reply.code(304).send();
  }
  return reply.code(res.status).type('application/json; charset=utf-8').send(res.body);
}

/** The cache key of a public read: the origin matters because responses hold absolute URLs. */
export const cacheKey = (req: FastifyRequest) => `${req.protocol}://${req.host}${req.url}`;

/** Anonymous reads of live content may come from, and go to, the shared cache. */
export const isCacheable = (req: FastifyRequest) => req.headers.authorization === undefined;
