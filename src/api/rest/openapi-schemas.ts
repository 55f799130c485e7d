import { blockJsonSchemas, type JsonSchema } from '../../blocks/block-json-schema.js';
import type { BlockRegistry } from '../../blocks/block-registry.js';
import { pageJsonSchemas, pageSchemaId, pageWriteSchemaId } from '../../content/page-json-schema.js';
import type { PageTypeRegistry } from '../../content/page-types.js';
import pageMoveSchema from '../../../schemas/api/page-move.json' with { type: 'json' };
import pagePublishSchema from '../../../schemas/api/page-publish.json' with { type: 'json' };
import pageRevertSchema from '../../../schemas/api/page-revert.json' with { type: 'json' };
import pageCompareSchema from '../../../schemas/api/page-compare.json' with { type: 'json' };
import executionSchema from '../../../schemas/api/execution.json' with { type: 'json' };
import tokenCreateSchema from '../../../schemas/api/token-create.json' with { type: 'json' };

/**
 * Route schemas. Everything about content comes from blocks/ and schemas/ (via the
 * generators); this file only says which schema belongs to which route. Schemas
 * marked `x-lectern-validated: operation` document a part of the request that the
 * operation validates itself (to give Wagtail's messages or precise block pointers).
 */
const BY_OPERATION = { 'x-lectern-validated': 'operation' } as const;
const str = (description: string) => ({ type: 'string', description });

export const errorSchema: JsonSchema = {
  $id: 'Error',
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string', description: 'Always present (Wagtail clients read it).' },
    code: { type: 'string', description: 'Stable CMS_ERR_* code.' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string', description: 'JSON pointer into the request body (or the current draft, for merge conflicts).' }, message: { type: 'string' }, block_id: { type: 'string' } },
        required: ['path', 'message'],
        additionalProperties: true,
      },
    },
  },
  required: ['statusCode', 'error', 'message', 'code'],
  additionalProperties: true,
};

const pageMetaSchema: JsonSchema = {
  $id: 'PageMeta',
  type: 'object',
  properties: {
    type: { type: 'string' },
    detail_url: { type: 'string', format: 'uri' },
    html_url: { type: 'string' },
    slug: { type: 'string' },
    show_in_menus: { type: 'boolean' },
    seo_title: { type: 'string' },
    search_description: { type: 'string' },
    first_published_at: { type: ['string', 'null'], format: 'date-time' },
    last_published_at: { type: ['string', 'null'], format: 'date-time' },
    alias_of: { type: 'null' },
    parent: { type: ['object', 'null'], description: 'Detail only: {id, meta: {type, detail_url, html_url}, title}.' },
    revision: { type: ['integer', 'null'], description: 'Drafts and write responses: the revision shown.' },
    live: { type: 'boolean', description: 'Drafts and write responses.' },
    has_unpublished_changes: { type: 'boolean', description: 'Drafts and write responses.' },
    live_revision: { type: ['integer', 'null'], description: 'Drafts and write responses.' },
    go_live_at: { type: ['string', 'null'], format: 'date-time', description: 'Drafts and write responses: when the scheduled revision goes live.' },
    expire_at: { type: ['string', 'null'], format: 'date-time', description: 'Drafts and write responses: when the page leaves the live site.' },
    scheduled_revision: { type: ['integer', 'null'], description: 'Drafts and write responses: the revision scheduled to go live.' },
  },
};

/** Every shared schema, for app.addSchema (and so for components.schemas in OpenAPI). */
export function sharedSchemas(blocks: BlockRegistry, types: PageTypeRegistry): JsonSchema[] {
  return [errorSchema, pageMetaSchema, pageMoveSchema, pagePublishSchema, pageRevertSchema, pageCompareSchema, executionSchema, tokenCreateSchema, ...blockJsonSchemas(blocks), ...pageJsonSchemas(types)];
}

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, { $ref: 'Error#' }]));
const idParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,9}$', description: 'Page id' } }, required: ['id'] };
/** Reads answer 404 for an id that is not a number, as Wagtail does. */
const readIdParams = { type: 'object', ...BY_OPERATION, properties: { id: { type: 'string', description: 'Page id' } }, required: ['id'] };

const listingQuery = {
  type: 'object',
  ...BY_OPERATION,
  description: 'Any other parameter is an exact filter on a field (slug=, title=, show_in_menus=, and with type= the type\'s scalar fields).',
  properties: {
    type: str('Page type(s), comma separated; unlocks that type\'s fields.'),
    fields: str('Wagtail fields syntax: a,b  -a  *  _  x(a,b).'),
    child_of: str('Page id or "root".'),
    descendant_of: str('Page id or "root".'),
    ancestor_of: str('Page id.'),
    order: str('Field, -field, several comma separated, or random.'),
    limit: str('At most API_LIMIT_MAX (20 by default).'),
    offset: str('Number of items to skip.'),
    search: str('Words to find in titles and text.'),
    search_operator: str('and (default) or or.'),
    version: str('live (default) or draft (editors and reviewers).'),
    slug: str('Exact slug.'),
  },
};

export const pageListingSchema = {
  tags: ['pages'],
  summary: 'List pages (Wagtail API v2)',
  querystring: listingQuery,
  response: {
    200: {
      type: 'object',
      properties: { meta: { type: 'object', properties: { total_count: { type: 'integer' } } }, items: { type: 'array', items: { type: 'object' } } },
    },
    ...errors(400, 401, 403),
  },
};

export const pageDetailSchema = {
  tags: ['pages'],
  summary: 'A page by id (Wagtail API v2)',
  params: readIdParams,
  querystring: { type: 'object', ...BY_OPERATION, properties: { fields: listingQuery.properties.fields, type: listingQuery.properties.type, version: listingQuery.properties.version } },
  response: { 200: { description: 'The page; its fields depend on its type (see the Page_<type> schemas).', type: 'object' }, 304: { description: 'Not modified', type: 'null' }, ...errors(400, 401, 403, 404) },
};

export const pageFindSchema = {
  tags: ['pages'],
  summary: 'Find a page by its path; redirects to its detail URL',
  querystring: { type: 'object', ...BY_OPERATION, properties: { html_path: str('For example /course/lesson-1/.'), type: listingQuery.properties.type, version: listingQuery.properties.version } },
  response: { 302: { description: 'Location: the detail URL', type: 'null' }, ...errors(400, 401, 403, 404) },
};

export function pageWriteSchemas(types: PageTypeRegistry) {
  const page = { description: 'The page in the detail shape, with meta.revision, meta.live, meta.has_unpublished_changes.', oneOf: types.names().map((t) => ({ $ref: `${pageSchemaId(t)}#` })) };
  const writeBody = { ...BY_OPERATION, oneOf: types.names().map((t) => ({ $ref: `${pageWriteSchemaId(t)}#` })) };
  const patchBody = { ...BY_OPERATION, type: 'object', description: 'Any members of the page payload; absent members keep their value.' };
  const ifMatch = { type: 'object', properties: { 'if-match': str('An ETag of the page (or a revision id): 412 when the page has moved on.') } };
  return {
    create: { tags: ['pages'], summary: 'Create a page', body: writeBody, response: { 201: page, ...errors(400, 401, 403, 409) } },
    update: {
      tags: ['pages'],
      summary: 'Save a new draft revision (merged with concurrent saves when base_revision is older than the latest)',
      params: idParams, headers: ifMatch, body: patchBody, response: { 200: page, ...errors(400, 401, 403, 404, 409, 412) },
    },
    remove: {
      tags: ['pages'], summary: 'Delete a page and its subtree (history stays in git)', params: idParams,
      response: { 200: { type: 'object', properties: { deleted: { type: 'array', items: { type: 'integer' } } } }, ...errors(401, 403, 404) },
    },
    publish: { tags: ['pages'], summary: 'Publish the latest (or a given) revision', params: idParams, body: { $ref: `${pagePublishSchema.$id}#` }, response: { 200: page, ...errors(400, 401, 403, 404, 409) } },
    unpublish: { tags: ['pages'], summary: 'Take a page off the live site', params: idParams, response: { 200: page, ...errors(401, 403, 404, 409) } },
    revert: { tags: ['history'], summary: 'A new draft revision with the content of an earlier one', params: idParams, headers: ifMatch, body: { $ref: `${pageRevertSchema.$id}#` }, response: { 200: page, ...errors(400, 401, 403, 404, 409, 412) } },
    move: { tags: ['pages'], summary: 'Move a page under another parent', params: idParams, body: { $ref: `${pageMoveSchema.$id}#` }, response: { 200: page, ...errors(400, 401, 403, 404, 409) } },
  };
}
