import type { ReadCache } from './api/rest/read-cache.js';
import type { TokenAuthenticator } from './auth/tokens.js';
import type { Config } from './config.js';
import type { ContentContext } from './content/content-context.js';
import type { ContentVersion } from './content/content-version.js';
import type { PageDocs } from './content/queries/page-docs.js';
import type { Scheduler } from './content/scheduler.js';
import type { ExecutionService } from './kernels/executions/execution-service.js';
import type { Database } from './db/client.js';
import type { GitRepo } from './history/git-repo.js';
import type { ImageRenditions } from './media/images/image-renditions.js';
import type { MediaContext } from './media/media-context.js';
import type { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';

/** Everything the HTTP layer reaches, built once by buildApp and decorated as `app.lectern`. */
export interface LecternServices {
  config: Config;
  database: Database;
  repo: GitRepo;
  content: ContentContext;
  auth: TokenAuthenticator;
  version: ContentVersion;
  cache: ReadCache;
  /** Single page documents (live ones cached), for running blocks. */
  pageDocs: PageDocs;
  scheduler: Scheduler;
  executions: ExecutionService;
  media: MediaContext;
  renditions: ImageRenditions;
  /** Delivers content events to registered webhooks. */
  webhooks: WebhookDispatcher;
}

declare module 'fastify' {
  interface FastifyInstance {
    lectern: LecternServices;
  }
}
