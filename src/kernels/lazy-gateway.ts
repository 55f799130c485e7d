import type { ExecuteOptions, KernelGateway, StartKernelOptions } from './kernel-gateway.js';

/**
 * Builds the real adapter on first use: a server that nobody runs code on (and every
 * test that does not) never starts a Pyodide process or dials a gateway.
 */
export class LazyGateway implements KernelGateway {
  private gateway: KernelGateway | null = null;

  constructor(readonly kind: string, readonly description: string, private readonly build: () => KernelGateway) {}

  private get real(): KernelGateway {
    this.gateway ??= this.build();
    return this.gateway;
  }

  listKernelspecs() { return this.real.listKernelspecs(); }
  startKernel(opts: StartKernelOptions) { return this.real.startKernel(opts); }
  execute(kernelId: string, opts: ExecuteOptions) { return this.real.execute(kernelId, opts); }
  interrupt(kernelId: string) { return this.real.interrupt(kernelId); }
  restart(kernelId: string) { return this.real.restart(kernelId); }
  shutdown(kernelId: string) { return this.real.shutdown(kernelId); }
  async close() { await this.gateway?.close(); }
}
