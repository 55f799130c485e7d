import { Agent, request, type IncomingHttpHeaders } from 'node:http';

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

/** A response as it came: status, headers and body bytes. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends one JSON request and returns the parsed answer; any status other than
 * `expected` throws with the response body, so a benchmark never times failures.
 * node:http with keep-alive rather than fetch: fetch adds ~0.5 ms of client time per
 * request on this machine, which the kernel workload would count as the CMS's.
 */
export async function api<T = unknown>(client: ApiClient, method: string, path: string, opts: { body?: unknown; expected: number; auth?: boolean }): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await send(client, method, path, { headers, body, expected: opts.expected, auth: opts.auth });
  const text = res.body.toString('utf8');
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * One request over the same keep-alive agent, answered as it came: for what is not
 * JSON (multipart uploads, a 302 whose Location matters, image bytes). Redirects are
 * not followed. Any status other than `expected` throws with the start of the body.
 */
export async function send(client: ApiClient, method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer; expected: number; auth?: boolean }): Promise<RawResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth !== false) headers.authorization = `Bearer ${client.token}`;
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  const res = await new Promise<RawResponse>((resolve, reject) => {
    const req = request(new URL(path, client.baseUrl), { method, headers, agent, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} took longer than 60 s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
  if (res.status !== opts.expected) {
    throw new UnexpectedStatusError(`${method} ${path} answered ${res.status}, expected ${opts.expected}: ${res.body.toString('utf8', 0, 500)}`);
  }
  return res;
}
