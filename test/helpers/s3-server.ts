import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface S3Server {
  /** `http://127.0.0.1:<port>`: use it with forcePathStyle. */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  close(): Promise<void>;
}

interface S3rverOptions {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  httpServer?: Server;
}

// s3rver ships no types; this is the part of it the tests use.
const S3rver = createRequire(import.meta.url)('s3rver') as new (opts: S3rverOptions) => S3rverInstance;

/**
 * Starts s3rver (a real S3 API over a folder) in this process on a free port, with a
 * fresh directory and one empty bucket, so test files running in parallel share nothing.
 * s3rver checks signatures against its one account, S3RVER/S3RVER.
 */
export async function startS3Server(bucket = 'lectern-media'): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'lectern-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (err) {
    rmSync(directory, { recursive: true, force: true });
    throw err;
  }
  let closed = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    async close() {
      if (closed) return;
      closed = true;
      const closing = server.close();
      // Clients keep sockets alive; without this, close waits for them to idle out.
      server.httpServer?.closeAllConnections();
      await closing;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
