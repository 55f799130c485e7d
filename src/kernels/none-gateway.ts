import { GatewayUnavailableError, type KernelGateway } from './kernel-gateway.js';

/** KERNEL_GATEWAY=none: the CMS serves lessons and runs nothing; every run is a clear 503. */
export class NoGateway implements KernelGateway {
  readonly kind = 'none';
  readonly description = 'no kernel gateway (KERNEL_GATEWAY=none)';

  private refuse(): never {
    throw new GatewayUnavailableError(this.description, 'running code is turned off on this server');
  }

  async listKernelspecs() { return []; }
  async startKernel(): Promise<never> { this.refuse(); }
  async execute(): Promise<never> { this.refuse(); }
  async interrupt(): Promise<never> { this.refuse(); }
  async restart(): Promise<never> { this.refuse(); }
  async shutdown(): Promise<void> {}
  async close(): Promise<void> {}
}
