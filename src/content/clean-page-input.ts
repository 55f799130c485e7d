import { ajvErrorsToFieldErrors, createAjv, joinPointer } from '../blocks/ajv.js';
import { cleanValue, newCleanContext } from '../blocks/clean-value.js';
import type { BlockRegistry } from '../blocks/block-registry.js';
import { Errors, type FieldError } from '../errors.js';
import type { PageWrite } from '../generated/schema-types.js';
import pageWriteSchema from '../../schemas/api/page-write.json' with { type: 'json' };
import { COMMON_DEFAULTS, type PageDoc } from './page-document.js';
import type { PageType, PageTypeRegistry } from './page-types.js';
import { slugProblem } from './slugs.js';

const checkCommon = createAjv().compile<PageWrite>(pageWriteSchema);
const commonIsValid = (v: unknown): boolean => checkCommon(v);
const COMMON_KEYS = new Set(Object.keys(pageWriteSchema.properties));

export interface CleanedPageInput {
  type: PageType;
  /** The new document without `id`, `parent` and (when not given) `slug`, which the operation settles. */
  doc: { type: string; title: string; slug?: string; seo_title: string; search_description: string; show_in_menus: boolean; [field: string]: unknown };
  /** Whether the request named a slug. */
  slugGiven: boolean;
  parent: number | null | undefined;
  message: string | undefined;
  publish: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates a flat page payload (DESIGN.md §4) and returns the cleaned document. On
 * update, `current` is the latest draft and absent members keep their value; null
 * clears an optional field. Every problem is reported at once, each with the JSON
 * pointer of its place in the request; nothing is returned unless all is well.
 */
export function cleanPageInput(types: PageTypeRegistry, blocks: BlockRegistry, input: unknown, current: PageDoc | null): CleanedPageInput {
  if (!isObject(input)) throw Errors.validation(['the request body must be a JSON object'], { errors: [{ path: '', message: 'must be a JSON object' }] });
  const errors: FieldError[] = [];
  const fail = (): never => {
    throw Errors.validation([errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')], { errors });
  };

  const typeName = input.type ?? current?.type;
  if (typeof typeName !== 'string') {
    errors.push({ path: '/type', message: `is required (one of ${types.names().join(', ')})` });
    fail();
  }
  const type = types.get(typeName as string);
  if (!type) {
    errors.push({ path: '/type', message: `unknown page type "${String(typeName)}" (known: ${types.names().join(', ')})` });
    fail();
  }
  const pageType = type as PageType;
  if (current && input.type !== undefined && input.type !== current.type) {
    errors.push({ path: '/type', message: `the type of a page cannot change (it is ${current.type})` });
  }

  const raw: Record<string, unknown> = input;
  if (!commonIsValid(raw)) {
    for (const e of ajvErrorsToFieldErrors(checkCommon.errors, '')) {
      errors.push(e.path === '/slug' && e.message.startsWith('must match pattern')
        ? { path: '/slug', message: `is not a valid slug: ${slugProblem(raw.slug)}` }
        : e);
    }
  }
  if (input.slug !== undefined && typeof input.slug === 'string' && input.slug !== input.slug.normalize('NFC')) {
    errors.push({ path: '/slug', message: `is not a valid slug: ${slugProblem(input.slug)}` });
  }
  for (const key of Object.keys(input)) {
    if (COMMON_KEYS.has(key) || pageType.fieldsByName.has(key)) continue;
    if (key === 'id' && current && input.id === current.id) continue;
    errors.push({
      path: joinPointer('', key),
      message: `"${key}" is not a field of ${pageType.name} pages (fields: title, slug, seo_title, search_description, show_in_menus, ${pageType.fields.map((f) => f.name).join(', ')})`,
    });
  }
  if (current && input.parent !== undefined && input.parent !== current.parent) {
    errors.push({ path: '/parent', message: 'use POST /api/v2/pages/{id}/move/ to change the parent of a page' });
  }
  if (!current && input.title === undefined) errors.push({ path: '/title', message: 'is required' });
  if (!current && input.base_revision !== undefined) errors.push({ path: '/base_revision', message: 'only applies to PATCH (a page being created has no revisions)' });

  const ctx = newCleanContext(blocks);
  const fields: Record<string, unknown> = {};
  for (const field of pageType.fields) {
    const given = input[field.name];
    if (given === undefined) {
      const kept = current?.[field.name];
      if (kept !== undefined) fields[field.name] = kept;
      else if (!current && field.spec.kind === 'stream' && !field.required) fields[field.name] = [];
      else if (field.required) errors.push({ path: joinPointer('', field.name), message: 'is required' });
      continue;
    }
    if (given === null) {
      if (field.required) errors.push({ path: joinPointer('', field.name), message: 'is required and cannot be null' });
      continue;
    }
    fields[field.name] = cleanValue(field.spec, given, joinPointer('', field.name), ctx, field.name);
  }
  // Block ids kept from the current draft but not re-sent are simply gone; the ones
  // re-sent were checked for duplicates by cleanValue.
  errors.push(...ctx.errors);
  if (errors.length) fail();

  const common = input as PageWrite;
  const title = common.title?.trim() ?? current!.title;
  return {
    type: pageType,
    doc: {
      type: pageType.name,
      title,
      ...(common.slug !== undefined ? { slug: common.slug } : current ? { slug: current.slug } : {}),
      seo_title: common.seo_title ?? current?.seo_title ?? COMMON_DEFAULTS.seo_title,
      search_description: common.search_description ?? current?.search_description ?? COMMON_DEFAULTS.search_description,
      show_in_menus: common.show_in_menus ?? current?.show_in_menus ?? COMMON_DEFAULTS.show_in_menus,
      ...fields,
    },
    slugGiven: common.slug !== undefined,
    parent: common.parent,
    message: common.message,
    publish: common.publish ?? false,
  };
}
