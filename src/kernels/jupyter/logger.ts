/**
 * What the adapter logs with: Fastify's (pino) logger fits, as does `console`-like
 * glue. Entries never carry the token; URLs are logged without it.
 */
export interface JupyterGatewayLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const silentLogger: JupyterGatewayLogger = {
  debug() {},
  info() {},
  warn() {},
};
