import type { KernelConfig } from '../config.js';
import { JupyterGateway, type JupyterGatewayLogger } from './jupyter/jupyter-gateway.js';
import type { KernelGateway } from './kernel-gateway.js';
import { LazyGateway } from './lazy-gateway.js';
import { NoGateway } from './none-gateway.js';
import { PyodideGateway } from './pyodide/pyodide-gateway.js';

/**
 * The adapter KERNEL_GATEWAY names, built on first use: a server nobody runs code on
 * never starts a Pyodide process or dials a gateway.
 */
export function selectGateway(config: KernelConfig, logger?: JupyterGatewayLogger): KernelGateway {
  switch (config.gateway) {
    case 'none':
      return new NoGateway();
    case 'jupyter': {
      const url = config.gatewayUrl!;
      return new LazyGateway('jupyter', `jupyter gateway at ${url}`, () => new JupyterGateway({
        url, token: config.gatewayToken, requestTimeoutMs: config.gatewayTimeoutMs,
        kernelTimeoutMs: config.kernelStartTimeoutMs, readyTimeoutMs: config.kernelReadyTimeoutMs, logger,
      }));
    }
    case 'pyodide':
      return new LazyGateway('pyodide', 'the embedded Pyodide gateway', () => new PyodideGateway({ spares: config.pyodideSpares }));
  }
}
