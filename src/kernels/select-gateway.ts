import type { KernelConfig } from '../config.js';
import type { KernelGateway } from './kernel-gateway.js';
import { LazyGateway } from './lazy-gateway.js';
import { NoGateway } from './none-gateway.js';

/** The adapter KERNEL_GATEWAY names, built on first use. */
export function selectGateway(config: KernelConfig): KernelGateway {
  switch (config.gateway) {
    case 'none':
      return new NoGateway();
    default:
      return new NoGateway();
  }
}

export { LazyGateway };
