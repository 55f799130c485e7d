import { Agent, request } from 'node:http';

/** A response whose status was not the one the benchmark expects: the run fails. */
export class UnexpectedStatusError extends Error {
  override name = 'UnexpectedStatusError';
}

export interface ApiClient {
  baseUrl: string;
  token: string;
}

/** One keep-alive agent for the whole run: the client's own cost stays out of the figures. */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/**
 * Sends one JSON request and returns the parsed answer; any status other than
 * `expected` throws with the response body, so a benchmark never times failures.
 * node:http with keep-alive rather than fetch: fetch adds ~0.5 ms of client time per
 * request on this machine, which the kernel workload would count as the CMS's.
 */
export async function api<T = unknown>(client: ApiClient, method: string, path: string, opts: { body?: unknown; expected: number; auth?: boolean }): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.auth !== false) headers.authorization = `Bearer ${client.token}`;
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(new URL(path, client.baseUrl), { method, headers, agent, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} took longer than 60 s`)));
    req.on('error', reject);
    req.end(body);
  });
  if (status !== opts.expected) {
    throw new UnexpectedStatusError(`${method} ${path} answered ${status}, expected ${opts.expected}: ${text.slice(0, 500)}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

