/** A response whose status was not the one the benchmark expects: the run fails. */
export class UnexpectedStatusError extends Error {
  override name = 'UnexpectedStatusError';
}

export interface ApiClient {
  baseUrl: string;
  token: string;
}

/**
 * Sends one JSON request and returns the parsed answer; any status other than
 * `expected` throws with the response body, so a benchmark never times failures.
 */
export async function api<T = unknown>(client: ApiClient, method: string, path: string, opts: { body?: unknown; expected: number; auth?: boolean }): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.auth !== false) headers.authorization = `Bearer ${client.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${client.baseUrl}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (res.status !== opts.expected) {
    throw new UnexpectedStatusError(`${method} ${path} answered ${res.status}, expected ${opts.expected}: ${text.slice(0, 500)}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}
