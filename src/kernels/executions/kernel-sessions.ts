import { randomUUID } from 'node:crypto';
import { Errors } from '../../errors.js';
import type { KernelGateway } from '../kernel-gateway.js';

/** One learner's kernel for one lesson environment. */
export interface KernelSession {
  /** Lectern's id of the session (what the API shows); the gateway's kernel id stays inside. */
  id: string;
  kernelId: string;
  tokenId: number;
  environment: string;
  kernelspec: string;
  startedAt: Date;
  lastUsedAt: Date;
  busy: boolean;
}

export interface SessionLimits {
  kernelsPerLearner: number;
  maxKernels: number;
  idleTtlMs: number;
}

/**
 * The mapping learner × environment → kernel (DESIGN.md §6): a learner's runs in one
 * environment share one kernel (so state carries over between cells), learners never
 * share one, and kernels idle longer than the TTL are shut down. The browser never learns
 * the gateway's kernel id.
 */
export class KernelSessions {
  private readonly byKey = new Map<string, KernelSession>();
  private readonly starting = new Map<string, Promise<KernelSession>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly gateway: KernelGateway, private readonly limits: SessionLimits, private readonly now: () => Date, private readonly log: (err: unknown) => void) {}

  private key(tokenId: number, environment: string) {
    return `${tokenId}\u0000${environment}`;
  }

  /** The learner's kernel for `environment`, started when there is none yet. */
  async acquire(tokenId: number, environment: string, kernelspec: string, env: Record<string, string>): Promise<KernelSession> {
    const key = this.key(tokenId, environment);
    const found = this.byKey.get(key);
    if (found && found.kernelspec === kernelspec) return found;
    if (found) await this.drop(found, true); // the lesson now wants another kernelspec
    const pending = this.starting.get(key);
    if (pending) return pending;
    const start = this.start(key, tokenId, environment, kernelspec, env).finally(() => this.starting.delete(key));
    this.starting.set(key, start);
    return start;
  }

  private async start(key: string, tokenId: number, environment: string, kernelspec: string, env: Record<string, string>): Promise<KernelSession> {
    const mine = [...this.byKey.values()].filter((s) => s.tokenId === tokenId);
    if (mine.length >= this.limits.kernelsPerLearner) {
      // Make room by closing this learner's least recently used idle kernel.
      const idle = mine.filter((s) => !s.busy).sort((a, b) => a.lastUsedAt.getTime() - b.lastUsedAt.getTime())[0];
      if (!idle) throw Errors.kernelLimit([this.limits.kernelsPerLearner], { headers: { 'retry-after': '10' } });
      await this.drop(idle, true);
    }
    // Kernels held and kernels being started by others (this start may or may not be in
    // `starting` yet, depending on whether it awaited above).
    const startingElsewhere = [...this.starting.keys()].filter((k) => k !== key).length;
    if (this.byKey.size + startingElsewhere >= this.limits.maxKernels) {
      throw Errors.kernelCapacity([this.gateway.description, this.limits.maxKernels], { headers: { 'retry-after': '30' } });
    }
    const handle = await this.gateway.startKernel({ kernelspec, environment, env });
    const now = this.now();
    const session: KernelSession = { id: randomUUID(), kernelId: handle.id, tokenId, environment, kernelspec, startedAt: now, lastUsedAt: now, busy: false };
    this.byKey.set(key, session);
    return session;
  }

  /** Forgets a session (its kernel is gone or unwanted), shutting the kernel down when asked. */
  async drop(session: KernelSession, shutdown: boolean): Promise<void> {
    const key = this.key(session.tokenId, session.environment);
    if (this.byKey.get(key) === session) this.byKey.delete(key);
    if (shutdown) await this.gateway.shutdown(session.kernelId).catch(this.log);
  }

  byId(id: string): KernelSession | undefined {
    for (const s of this.byKey.values()) if (s.id === id) return s;
    return undefined;
  }

  ofLearner(tokenId: number): KernelSession[] {
    return [...this.byKey.values()].filter((s) => s.tokenId === tokenId);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Shuts down kernels idle longer than the TTL. */
  async cull(): Promise<number> {
    const limit = this.now().getTime() - this.limits.idleTtlMs;
    const idle = [...this.byKey.values()].filter((s) => !s.busy && s.lastUsedAt.getTime() < limit);
    for (const s of idle) await this.drop(s, true);
    return idle.length;
  }

  startCulling(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => { this.cull().catch(this.log); }, intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.byKey.clear();
  }
}
