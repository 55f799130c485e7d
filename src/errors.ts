import { format } from 'node:util';

/** One invalid place in a request: a JSON pointer into it and what is wrong there. */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * Every error Lectern reports to a client. `code` is stable (clients and tests match
 * on it); `message` is always present because Wagtail clients read it.
 */
export class CmsError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly errors: FieldError[] | undefined;
  /** Extra members merged into the error body (for example the current revision on 412). */
  readonly extra: Record<string, unknown> | undefined;
  /** Response headers that belong to this error (Location, Retry-After). */
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: string,
    statusCode: number,
    message: string,
    opts: { errors?: FieldError[]; extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'CmsError';
    this.code = code;
    this.statusCode = statusCode;
    this.errors = opts.errors;
    this.extra = opts.extra;
    this.headers = opts.headers;
  }

  /**
   * What GraphQL puts in `extensions` when this error reaches it without our formatter
   * (errors of a subscription being set up): the same code as everywhere.
   */
  get extensions(): Record<string, unknown> {
    return { code: this.code, statusCode: this.statusCode, ...(this.errors ? { errors: this.errors } : {}), ...(this.extra ?? {}) };
  }
}

type ErrorOptions = ConstructorParameters<typeof CmsError>[3];

function define(code: string, statusCode: number, template: string) {
  const make = (args: unknown[] = [], opts?: ErrorOptions) =>
    new CmsError(code, statusCode, args.length ? format(template, ...args) : template, opts);
  return Object.assign(make, { code, statusCode });
}

/** The catalogue. Codes are CMS_ERR_<AREA>_<WHAT>; templates use util.format placeholders. */
export const Errors = {
  // request / API
  badQuery: define('CMS_ERR_API_BAD_QUERY', 400, '%s'),
  badRequest: define('CMS_ERR_API_BAD_REQUEST', 400, '%s'),
  notFound: define('CMS_ERR_API_NOT_FOUND', 404, 'not found'),
  routeNotFound: define('CMS_ERR_API_ROUTE_NOT_FOUND', 404, 'not found: %s %s'),
  payloadTooLarge: define('CMS_ERR_API_PAYLOAD_TOO_LARGE', 413, 'request body is too large'),
  unsupportedMediaType: define('CMS_ERR_API_UNSUPPORTED_MEDIA_TYPE', 415, 'unsupported content type: %s'),
  internal: define('CMS_ERR_INTERNAL', 500, 'internal server error'),
  unavailable: define('CMS_ERR_UNAVAILABLE', 503, '%s'),

  // validation of content
  validation: define('CMS_ERR_VALIDATION', 400, 'the request is invalid: %s'),

  // auth
  unauthenticated: define('CMS_ERR_AUTH_REQUIRED', 401, 'authentication credentials were not provided'),
  badToken: define('CMS_ERR_AUTH_BAD_TOKEN', 401, 'invalid or revoked token'),
  forbidden: define('CMS_ERR_AUTH_FORBIDDEN', 403, 'the %s role may not %s'),

  // pages
  pageNotFound: define('CMS_ERR_PAGE_NOT_FOUND', 404, 'No Page matches the given query.'),
  parentNotFound: define('CMS_ERR_PAGE_PARENT_NOT_FOUND', 400, 'parent page %s does not exist'),
  parentNotAllowed: define('CMS_ERR_PAGE_PARENT_NOT_ALLOWED', 400, '%s'),
  slugTaken: define('CMS_ERR_PAGE_SLUG_TAKEN', 409, 'the slug "%s" is already in use by a sibling page'),
  moveIntoSelf: define('CMS_ERR_PAGE_MOVE_CYCLE', 400, 'a page cannot be moved under itself or its descendants'),
  notLive: define('CMS_ERR_PAGE_NOT_LIVE', 409, 'page %s is not live'),
  mergeConflict: define('CMS_ERR_PAGE_MERGE_CONFLICT', 409, 'the edit conflicts with changes saved since revision %s'),
  staleRevision: define('CMS_ERR_PAGE_STALE_REVISION', 412, 'the page has changed: revision %s is current, not %s'),
  blockNotFound: define('CMS_ERR_BLOCK_NOT_FOUND', 404, 'page %s has never had a block %s'),
  revisionNotFound: define('CMS_ERR_REVISION_NOT_FOUND', 404, 'revision %s of page %s does not exist'),

  notNotebook: define('CMS_ERR_NOTEBOOK_INVALID', 400, 'not a Jupyter notebook: %s'),

  // running code (kernels)
  codeTooLarge: define('CMS_ERR_KERNEL_CODE_TOO_LARGE', 413, 'the code is %s bytes; at most %s may run'),
  unknownEnvironment: define('CMS_ERR_KERNEL_UNKNOWN_ENVIRONMENT', 400, 'the lesson environment "%s" is not offered here (environments: %s)'),
  notRunnable: define('CMS_ERR_KERNEL_NOT_RUNNABLE', 400, 'block %s is a %s block; only jupyter blocks run'),
  rateLimited: define('CMS_ERR_KERNEL_RATE_LIMITED', 429, 'too many runs: at most %s a minute; try again in %s s'),
  runInProgress: define('CMS_ERR_KERNEL_RUN_IN_PROGRESS', 409, 'execution %s of yours is still running; wait for it or interrupt it'),
  kernelLimit: define('CMS_ERR_KERNEL_LIMIT', 429, 'you already have %s kernels running code; wait until one is free'),
  kernelCapacity: define('CMS_ERR_KERNEL_CAPACITY', 429, '%s is at capacity (%s kernels); try again later'),
  gatewayUnavailable: define('CMS_ERR_KERNEL_GATEWAY_UNAVAILABLE', 503, '%s'),
  executionNotFound: define('CMS_ERR_EXECUTION_NOT_FOUND', 404, 'execution %s does not exist'),
  kernelNotFound: define('CMS_ERR_KERNEL_NOT_FOUND', 404, 'kernel %s does not exist'),
  blockNotFoundInPage: define('CMS_ERR_BLOCK_NOT_IN_PAGE', 404, 'page %s has no block %s'),

  // images and documents
  imageNotFound: define('CMS_ERR_IMAGE_NOT_FOUND', 404, 'No Image matches the given query.'),
  documentNotFound: define('CMS_ERR_DOCUMENT_NOT_FOUND', 404, 'No Document matches the given query.'),
  imageRejected: define('CMS_ERR_IMAGE_INVALID', 400, '%s'),
  badFilterSpec: define('CMS_ERR_IMAGE_BAD_FILTER_SPEC', 400, '%s'),
  renditionLimit: define('CMS_ERR_IMAGE_RENDITION_LIMIT', 403, 'image %s already has %s renditions; new ones need an editor token (MAX_RENDITIONS_PER_IMAGE)'),
  emptyFile: define('CMS_ERR_MEDIA_EMPTY_FILE', 400, 'the uploaded file is empty'),
  fileTooLarge: define('CMS_ERR_MEDIA_FILE_TOO_LARGE', 413, 'the file is larger than %s, the limit for %s'),
  rangeNotSatisfiable: define('CMS_ERR_MEDIA_RANGE_NOT_SATISFIABLE', 416, 'the range %s is not within the file (%s bytes)'),
  mediaStorageUnavailable: define('CMS_ERR_MEDIA_STORAGE_UNAVAILABLE', 503, '%s'),

  // webhooks
  webhookNotFound: define('CMS_ERR_WEBHOOK_NOT_FOUND', 404, 'webhook %s does not exist'),

  // storage
  storage: define('CMS_ERR_STORAGE', 500, 'storage error'),
  repoFileNotFound: define('CMS_ERR_GIT_NOT_FOUND', 404, 'the content repository has no %s'),
} as const;

export const isCmsError = (err: unknown): err is CmsError => err instanceof CmsError;
