import autocannon from 'autocannon';

export interface LoadSettings {
  /** Seconds measured. */
  duration: number;
  /** Seconds of warm-up before the measurement, not reported; 0 skips it. */
  warmup: number;
  connections: number;
}

/**
 * A read workload: GETs of `paths`, each request taking the next one in turn; with
 * `bodies`, POSTs of JSON, the bodies rotating the same way (a GraphQL query is a read
 * sent as a POST).
 */
export interface ReadScenario {
  name: string;
  paths: readonly string[];
  bodies?: readonly Buffer[];
}

export interface LoadResult {
  name: string;
  /** Average requests per second over the per-second samples. */
  rps: number;
  /** Milliseconds (autocannon records whole milliseconds). */
  p50: number;
  p99: number;
  max: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Response counts by status code. */
  statusCodes: Record<string, number>;
  /** Average response bytes per second. */
  bytesPerSecond: number;
}

let current: autocannon.Instance | null = null;
let aborted = false;

/** Ends the autocannon run under way, if any, and every later one at once (Ctrl-C). */
export function abortLoad(): void {
  aborted = true;
  current?.stop();
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  if (aborted) return Promise.reject(new Error('load generation aborted'));
  return new Promise((resolve, reject) => {
    current = autocannon(opts, (err, result) => {
      current = null;
      if (err) reject(err);
      else if (aborted) reject(new Error('load generation aborted'));
      else resolve(result);
    });
  });
}

/**
 * One warm-up pass, then the measured autocannon run. Both share one rotation over
 * `scenario.paths` (and `bodies`), advanced by `setupRequest` before every request on any
 * connection.
 */
export async function runReadScenario(baseUrl: string, scenario: ReadScenario, settings: LoadSettings): Promise<LoadResult> {
  let next = 0;
  const { bodies } = scenario;
  const requests: autocannon.Request[] = [{
    method: bodies ? 'POST' : 'GET',
    ...(bodies ? { headers: { 'content-type': 'application/json' } } : {}),
    setupRequest: (req) => {
      const path = scenario.paths[next % scenario.paths.length]!;
      const body = bodies?.[next % bodies.length];
      next++;
      return body ? { ...req, path, body } : { ...req, path };
    },
  }];
  const base: autocannon.Options = { url: baseUrl, connections: settings.connections, requests, timeout: 10 };
  if (settings.warmup > 0) await run({ ...base, duration: settings.warmup, title: `${scenario.name} (warm-up)` });
  const r = await run({ ...base, duration: settings.duration, title: scenario.name });
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = Number(count);
  return {
    name: scenario.name,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
    bytesPerSecond: r.throughput.average,
  };
}
