import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

/** The only file that starts anything: reads config, builds the app, listens, closes gracefully. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`lectern: configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const app = await buildApp(config, {
    onAdminToken: (token) => {
      // Printed once, on the first start; only its hash is stored.
      process.stdout.write([
        '',
        '  Lectern admin token (shown once; store it now):',
        '',
        `    ${token}`,
        '',
        '  Use it as: Authorization: Bearer <token>',
        '  More tokens: npm run lectern -- token create --role editor --name <name>',
        '',
      ].join('\n') + '\n');
    },
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    // Requests in flight finish; a keep-alive connection is closed as soon as it is idle,
    // not when its client decides to hang up.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
    sweep.unref();
    app.close().then(() => process.exit(0), (err) => {
      app.log.error({ err }, 'error while closing');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  await app.listen({ port: config.port, host: config.host });
  app.log.info({
    database: config.databaseUrl ? 'postgres' : `pglite (${config.pgliteDir})`,
    repository: config.contentRepoDir,
  }, 'Lectern is serving');
}

main().catch((err) => {
  console.error('lectern: failed to start:', err);
  process.exit(1);
});
