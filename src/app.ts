import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import { gitHttpRoutes } from './api/rest/git-http-routes.js';
import { healthRoutes } from './api/rest/health-routes.js';
import { notebookRoutes } from './api/rest/notebook-routes.js';
import { registerErrorHandler } from './api/rest/error-handler.js';
import { sharedSchemas } from './api/rest/openapi-schemas.js';
import { pagesReadRoutes } from './api/rest/pages-read-routes.js';
import { pagesWriteRoutes } from './api/rest/pages-write-routes.js';
import { ReadCache } from './api/rest/read-cache.js';
import { revisionsRoutes } from './api/rest/revisions-routes.js';
import { bootstrapAdminToken, TokenAuthenticator } from './auth/tokens.js';
import { createAjv } from './blocks/ajv.js';
import { BlockRegistry } from './blocks/block-registry.js';
import type { Config } from './config.js';
import type { ContentContext } from './content/content-context.js';
import { ContentVersion } from './content/content-version.js';
import { PageDocs } from './content/queries/page-docs.js';
import { PageTypeRegistry } from './content/page-types.js';
import { Scheduler } from './content/scheduler.js';
import { executionRoutes } from './api/rest/execution-routes.js';
import { tokenRoutes } from './api/rest/token-routes.js';
import { documentRoutes } from './api/rest/document-routes.js';
import { imageRoutes } from './api/rest/image-routes.js';
import { mediaFileRoutes } from './api/rest/media-file-routes.js';
import { graphqlRoutes } from './api/graphql/graphql-plugin.js';
import { webhookRoutes } from './api/rest/webhook-routes.js';
import { EnvironmentRegistry } from './kernels/environments.js';
import { ExecutionService } from './kernels/executions/execution-service.js';
import { selectGateway } from './kernels/select-gateway.js';
import { ImageRenditions } from './media/images/image-renditions.js';
import type { MediaContext } from './media/media-context.js';
import { selectStorage } from './media/select-storage.js';
import { LOCKS, openDatabase, type Database, type Db } from './db/client.js';
import { GitRepo } from './history/git-repo.js';
import { scheduleRepack } from './history/repack.js';
import { bumpLiveVersion, RevisionStore } from './history/revision-store.js';
import type { LecternServices } from './services.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';

export const BLOCKS_DIR = fileURLToPath(new URL('../blocks', import.meta.url));
export const PAGE_TYPES_DIR = fileURLToPath(new URL('../schemas/page-types', import.meta.url));
const VERSION = '0.1.0';

export interface BuildOptions {
  /** An already open database (tests); otherwise one is opened from the config. */
  database?: Database;
  /** Receives the admin token of a first start, to print once. */
  onAdminToken?: (token: string) => void;
  /** Replaces the clock of content operations (tests of scheduling). */
  now?: () => Date;
  logger?: boolean | object;
}

/**
 * Builds the CMS: storage opened and migrated, registries loaded, git refs repaired,
 * then one Fastify instance with its plugins registered explicitly, in order.
 */
export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const database = opts.database ?? await openDatabase({ url: config.databaseUrl, pgliteDir: config.pgliteDir });
  try {
    await database.migrate();
    const adminToken = await database.exclusive(LOCKS.migrate, (db) => db.transaction((tx) => bootstrapAdminToken(tx as unknown as Db, config.adminToken)));
    if (adminToken) opts.onAdminToken?.(adminToken);

    const blocks = BlockRegistry.load(BLOCKS_DIR);
    const types = PageTypeRegistry.load(PAGE_TYPES_DIR, blocks);
    const repo = new GitRepo(config.contentRepoDir, { fsync: config.gitFsync });
    await repo.init();
    const revisions = new RevisionStore(database, repo);
    const repaired = await revisions.repairRefs();

    const version = new ContentVersion(database, config.contentPollMs);
    await version.start();
    const content: ContentContext = {
      database, blocks, types, revisions, now: opts.now ?? (() => new Date()),
      onLiveChange: (liveVersion) => version.observe(liveVersion),
    };
    const scheduler = new Scheduler(content, config.schedulerIntervalMs, (err) => app.log.error({ err }, 'scheduled publishing failed'));
    const executions = new ExecutionService(
      selectGateway(config.kernels, {
        debug: (obj, msg) => app.log.debug(obj, msg),
        info: (obj, msg) => app.log.info(obj, msg),
        warn: (obj, msg) => app.log.warn(obj, msg),
      }), EnvironmentRegistry.load(config.kernels.environmentsFile), config.kernels, database.db,
      () => new Date(), (err, msg) => app.log.error({ err }, msg), config.redisUrl !== null,
    );
    const storage = selectStorage(config.media);
    const media: MediaContext = {
      db: database.db, storage, config: config.media,
      publicChange: async (fn) => {
        let live = 0;
        const result = await database.db.transaction(async (tx) => {
          const value = await fn(tx as unknown as Db);
          live = await bumpLiveVersion(tx as unknown as Db);
          return value;
        });
        version.observe(live);
        return result;
      },
      log: (err, msg) => app.log.error({ err }, msg),
    };
    const webhooks = new WebhookDispatcher(database.db, config.webhooks, { log: (err, msg) => app.log.error({ err }, msg) });
    // Deliveries are recorded in the save's transaction (never lost, never failing it) and sent later.
    revisions.addOutbox((tx, events) => webhooks.recordIn(tx, events));
    revisions.onEvents(() => webhooks.recorded());
    const services: LecternServices = {
      config, database, repo, content, version, scheduler, executions, media, webhooks,
      renditions: new ImageRenditions(media),
      auth: new TokenAuthenticator(database.db),
      cache: new ReadCache(version, config.readCacheEntries),
      pageDocs: new PageDocs(database.db, version),
    };

    const app = Fastify({
      logger: opts.logger ?? { level: config.logLevel },
      // Document names in download URLs are up to 200 characters, percent-encoded.
      routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
      bodyLimit: config.bodyLimitBytes,
      trustProxy: config.trustProxy,
      return503OnClosing: true,
    });
    if (repaired.length) app.log.warn({ repaired }, 'git refs lagged the database and were repaired');
    app.decorate('lectern', services);
    let stopRepacking: (() => Promise<void>) | null = null;
    app.addHook('onReady', async () => {
      scheduler.start();
      executions.start();
      if (config.webhooks.pollMs > 0) webhooks.start();
      if (config.gitRepackIntervalMs > 0) stopRepacking = scheduleRepack(config.contentRepoDir, config.gitRepackIntervalMs, app.log);
    });
    app.addHook('onClose', async () => {
      await stopRepacking?.();
      await scheduler.stop();
      await executions.close();
      await webhooks.stop();
      await storage.close();
      await version.stop();
      await database.close();
    });

    // Route schemas: parts marked x-lectern-validated are checked by the operations.
    const bodyAjv = createAjv();
    const paramAjv = new Ajv({ coerceTypes: true, allErrors: true, strict: false });
    app.setValidatorCompiler(({ schema, httpPart }) => {
      if ((schema as Record<string, unknown>)['x-lectern-validated'] === 'operation') return () => true;
      if (httpPart !== 'body') return paramAjv.compile(schema);
      const validate = bodyAjv.compile(schema);
      // No body at all is an empty object: POST …/publish/ needs none.
      const check = (data: unknown) => {
        const ok = validate(data ?? {});
        check.errors = validate.errors;
        return ok;
      };
      check.errors = null as typeof validate.errors;
      return check;
    });
    for (const schema of sharedSchemas(blocks, types)) {
      app.addSchema(schema);
      bodyAjv.addSchema(schema);
    }

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Lectern',
          version: VERSION,
          description: 'A headless CMS for executable lessons. Reads follow the Wagtail API v2 contract; writes need a bearer token.',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'A Lectern token: Authorization: Bearer <token>.' },
            basic: { type: 'http', scheme: 'basic', description: 'For git clients on /content.git/: any user name, a Lectern token as the password.' },
          },
        },
        tags: [{ name: 'pages' }, { name: 'history' }, { name: 'kernels' }, { name: 'media' }, { name: 'operations' }, { name: 'webhooks' }],
      },
      refResolver: {
        buildLocalReference: (json, _base, _fragment, i) => {
          const id = typeof json.$id === 'string' ? json.$id : '';
          if (id && !id.includes('/')) return id;
          return typeof json.title === 'string' ? json.title : `def-${i}`;
        },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    registerErrorHandler(app);

    await app.register(healthRoutes);
    await app.register(pagesReadRoutes);
    await app.register(pagesWriteRoutes);
    await app.register(notebookRoutes);
    await app.register(revisionsRoutes);
    await app.register(gitHttpRoutes);
    await app.register(executionRoutes);
    await app.register(tokenRoutes);
    await app.register(imageRoutes);
    await app.register(documentRoutes);
    await app.register(mediaFileRoutes);
    await app.register(graphqlRoutes);
    await app.register(webhookRoutes);
    return app;
  } catch (err) {
    if (!opts.database) await database.close().catch(() => {});
    throw err;
  }
}
