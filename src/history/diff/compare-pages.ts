import type { BlockRegistry, CompiledSpec } from '../../blocks/block-registry.js';
import { COMMON_MEMBERS, type PageDoc } from '../../content/page-document.js';
import type { PageType } from '../../content/page-types.js';
import type { BlockDiff, FieldChange, FieldPath, PageCompare } from '../../generated/schema-types.js';
import { diffBlockList, streamItems } from './block-diff.js';
import { deepEqual } from './deep-equal.js';
import { blockChanges, diffValue, replaceChange, scalarChange, textChange } from './value-diff.js';

/** What `comparePages` computes; the route adds `page`, `from` and `to`. */
export type PageComparison = Pick<PageCompare, 'stats' | 'fields' | 'body'>;

/** Common members that are prose; the others (id, type, parent, slug, show_in_menus) are scalars. */
const TEXT_MEMBERS = new Set<string>(['title', 'seo_title', 'search_description']);

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is string | number | boolean | null =>
  v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const looksLikeStream = (v: unknown) => v === undefined || v === null
  || (Array.isArray(v) && v.every((b) => isPlainObject(b) && typeof b.type === 'string'));

/**
 * The block-level diff of two revisions of a page (DESIGN.md §5), a pure function of
 * the two documents: `body` holds the blocks of every stream field of `type`, field by
 * field in declaration order (each block names its `field`); `fields` the changed
 * non-stream fields: common members first (title, seo_title, search_description and
 * plain-string fields as word segments; id, type, parent, slug, show_in_menus as
 * scalars), then the type's fields by their specs, then members the type does not
 * declare (generically, see `diffUndeclared`). With no page type, a member whose
 * values are arrays of `{type…}` blocks counts as a stream field. A stream field
 * holding something other than a list (odd data) is reported as one `replace` in
 * `fields`. Never throws on odd input.
 */
export function comparePages(args: { registry: BlockRegistry; type: PageType | undefined; from: PageDoc; to: PageDoc }): PageComparison {
  const { registry, type } = args;
  const from: Record<string, unknown> = isPlainObject(args.from) ? args.from : {};
  const to: Record<string, unknown> = isPlainObject(args.to) ? args.to : {};
  const fields: FieldChange[] = [];
  const body: BlockDiff[] = [];
  const seen = new Set<string>();

  const member = (name: string) => ({ before: Object.hasOwn(from, name) ? from[name] : undefined, after: Object.hasOwn(to, name) ? to[name] : undefined });
  const stream = (name: string, before: unknown, after: unknown) => {
    if (!Array.isArray(before ?? []) || !Array.isArray(after ?? [])) {
      if (!deepEqual(before, after)) fields.push(replaceChange([name], before, after));
      return;
    }
    body.push(...diffBlockList(streamItems((before ?? []) as unknown[]), streamItems((after ?? []) as unknown[]), blockChanges(registry), name));
  };

  for (const name of COMMON_MEMBERS) {
    seen.add(name);
    const { before, after } = member(name);
    if (deepEqual(before, after)) continue;
    const path = [name];
    if (before === undefined || after === undefined) fields.push(replaceChange(path, before, after));
    else if (TEXT_MEMBERS.has(name) && typeof before === 'string' && typeof after === 'string') fields.push(textChange(path, before, after));
    else fields.push(isScalar(before) && isScalar(after) ? scalarChange(path, before, after) : replaceChange(path, before, after));
  }

  for (const field of type?.fields ?? []) {
    seen.add(field.name);
    const { before, after } = member(field.name);
    if (isStreamSpec(registry, field.spec)) stream(field.name, before, after);
    else diffField(registry, field.spec, [field.name], before, after, fields);
  }

  const rest = [...new Set([...Object.keys(to), ...Object.keys(from)])].filter((k) => !seen.has(k));
  for (const name of rest) {
    const { before, after } = member(name);
    if (type === undefined && looksLikeStream(before) && looksLikeStream(after)) stream(name, before, after);
    else diffUndeclared([name], before, after, fields, registry);
  }

  return { stats: countOps(body), fields, body };
}

function isStreamSpec(registry: BlockRegistry, spec: CompiledSpec): boolean {
  try {
    return registry.resolve(spec).kind === 'stream';
  } catch {
    return false;
  }
}

/** A declared non-stream field: absent on one side is a `replace`, otherwise by its spec. */
function diffField(registry: BlockRegistry, spec: CompiledSpec, path: FieldPath, before: unknown, after: unknown, out: FieldChange[]): void {
  if (deepEqual(before, after)) return;
  if (before === undefined || after === undefined) out.push(replaceChange(path, before, after));
  else diffValue(registry, spec, before, after, path, out);
}

/**
 * A member no page type describes: strings as words, other JSON scalars as scalars,
 * arrays of blocks as a `list` of block diffs, anything else as a `replace`.
 */
function diffUndeclared(path: FieldPath, before: unknown, after: unknown, out: FieldChange[], registry: BlockRegistry): void {
  if (deepEqual(before, after)) return;
  if (typeof before === 'string' && typeof after === 'string') out.push(textChange(path, before, after));
  else if (isScalar(before) && isScalar(after)) out.push(scalarChange(path, before, after));
  else if (Array.isArray(before) && Array.isArray(after) && looksLikeStream(before) && looksLikeStream(after)) {
    const items = diffBlockList(streamItems(before), streamItems(after), blockChanges(registry));
    out.push(items.some((it) => it.op !== 'unchanged' || it.moved) ? { path, kind: 'list', items } : replaceChange(path, before, after));
  } else out.push(replaceChange(path, before, after));
}

function countOps(body: readonly BlockDiff[]): PageComparison['stats'] {
  const stats = { added: 0, removed: 0, moved: 0, changed: 0, unchanged: 0 };
  for (const b of body) {
    stats[b.op]++;
    if (b.moved) stats.moved++;
  }
  return stats;
}
