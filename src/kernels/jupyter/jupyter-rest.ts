import { GatewayUnavailableError, KernelNotFoundError } from '../kernel-gateway.js';

export interface RequestOptions {
  body?: unknown;
  /** Overrides the client's timeout (starting a kernel takes as long as the kernel boots). */
  timeoutMs?: number;
  /** The kernel the path is about: its 404 becomes KernelNotFoundError. */
  kernelId?: string;
}

/**
 * The REST half of the Jupyter Server API. Every call is bounded by a timeout and every
 * failure becomes one of the port's errors, named after the gateway. The token travels
 * in the Authorization header only: URLs end up in access logs.
 */
export class JupyterRestClient {
  constructor(
    private readonly base: URL,
    private readonly token: string | null,
    private readonly timeoutMs: number,
    private readonly description: string,
  ) {}

  get headers(): Record<string, string> {
    return this.token === null ? {} : { authorization: `token ${this.token}` };
  }

  /** `path` is relative to the gateway's base URL (`api/kernels`), so a base path is kept. */
  url(path: string): URL {
    return new URL(path, this.base);
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T | null> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const what = `${method} /${path}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.url(path), {
        method,
        headers: {
          ...this.headers,
          accept: 'application/json',
          ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw this.networkError(err, what, timeoutMs);
    }
    if (res.status === 401 || res.status === 403) {
      throw new GatewayUnavailableError(this.description,
        `it refused the token (HTTP ${res.status} on ${what}): check KERNEL_GATEWAY_TOKEN`);
    }
    if (res.status === 404 && opts.kernelId !== undefined) throw new KernelNotFoundError(opts.kernelId);
    if (res.status < 200 || res.status > 299) {
      const detail = errorDetail(text);
      throw new GatewayUnavailableError(this.description,
        `${what} answered HTTP ${res.status}${res.status === 404 ? ' (is the URL right?)' : ''}${detail ? `: ${detail}` : ''}`);
    }
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new GatewayUnavailableError(this.description, `${what} answered something that is not JSON`);
    }
  }

  networkError(err: unknown, what: string, timeoutMs: number): GatewayUnavailableError {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      return new GatewayUnavailableError(this.description, `${what} got no answer within ${timeoutMs} ms`);
    }
    const cause = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
    return new GatewayUnavailableError(this.description, `cannot reach it (${cause}) on ${what}`);
  }
}

/** The gateway's own explanation (Jupyter answers `{"message": …, "reason": …}`), kept short. */
function errorDetail(text: string): string {
  let detail = text;
  try {
    const body = JSON.parse(text) as { message?: unknown; reason?: unknown };
    detail = String(body.message ?? body.reason ?? '');
  } catch { /* not JSON: an HTML error page from a proxy, say */
    detail = /<title>([^<]*)<\/title>/i.exec(text)?.[1] ?? '';
  }
  detail = detail.replace(/\s+/g, ' ').trim();
  return detail.length > 200 ? `${detail.slice(0, 200)}…` : detail;
}

/** "jupyter gateway at http://host:8888/base": the URL without credentials, query or fragment. */
export function describeGateway(url: URL): string {
  const shown = new URL(url.href);
  shown.username = '';
  shown.password = '';
  shown.search = '';
  shown.hash = '';
  return `jupyter gateway at ${shown.href.replace(/\/$/, '')}`;
}
