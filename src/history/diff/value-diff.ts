import type { BlockRegistry, CompiledSpec } from '../../blocks/block-registry.js';
import type { FieldChange, FieldPath } from '../../generated/schema-types.js';
import { diffBlockList, listItems, streamItems, type ChangesOf } from './block-diff.js';
import { deepEqual } from './deep-equal.js';
import { lineDiff } from './line-diff.js';
import { richTextDiff } from './rich-text-diff.js';
import { wordDiff } from './word-diff.js';

const HTML = 'text/html';
const CODE = 'text/x-source-code';

type Json = Record<string, unknown>;
type Scalar = string | number | boolean | null;

const isPlainObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

export const replaceChange = (path: FieldPath, before: unknown, after: unknown): FieldChange =>
  ({ path, kind: 'replace', before: before === undefined ? null : before, after: after === undefined ? null : after });

export const scalarChange = (path: FieldPath, before: Scalar, after: Scalar): FieldChange => ({ path, kind: 'scalar', before, after });

export const textChange = (path: FieldPath, before: string, after: string): FieldChange =>
  ({ path, kind: 'text', segments: wordDiff(before, after) });

/**
 * Describes how a value changed, guided by its compiled spec, appending to `out`;
 * `path` is where the value sits. Equal values add nothing; unequal ones always add at
 * least one change (a `replace` when nothing finer fits), and odd input (a value that
 * does not match its spec, an unknown block type) degrades to `replace`, never throws.
 *
 * - struct: one change list per child, in declaration order (then undeclared keys);
 * - list, stream: one `list` change whose items are diffed by id like top-level blocks;
 * - value: by its JSON Schema (see `diffBySchema`).
 * A child or property present on one side only is a `replace` with null for the
 * missing side.
 */
export function diffValue(registry: BlockRegistry, spec: CompiledSpec | undefined, before: unknown, after: unknown, path: FieldPath, out: FieldChange[]): void {
  if (deepEqual(before, after)) return;
  const start = out.length;
  try {
    diffBySpec(registry, spec, before, after, path, out);
  } catch {
    out.length = start;
  }
  if (out.length === start) out.push(replaceChange(path, before, after));
}

/** The changes inside a stream block of `type` (unknown types: one `replace`). */
export function blockChanges(registry: BlockRegistry): ChangesOf {
  return (type, before, after) => {
    const out: FieldChange[] = [];
    diffValue(registry, registry.has(type) ? registry.get(type).spec : undefined, before, after, [], out);
    return out;
  };
}

function diffBySpec(registry: BlockRegistry, spec: CompiledSpec | undefined, before: unknown, after: unknown, path: FieldPath, out: FieldChange[]): void {
  if (spec === undefined) return;
  const s = registry.resolve(spec);
  switch (s.kind) {
    case 'value':
      diffBySchema(s.schema, before, after, path, out);
      return;
    case 'struct':
      if (!isPlainObject(before) || !isPlainObject(after)) return;
      diffMembers([...s.children.keys()], before, after, path, out, (key, b, a, at) => {
        diffValue(registry, s.children.get(key), b, a, at, out);
      });
      return;
    case 'list':
    case 'stream': {
      if (!Array.isArray(before) || !Array.isArray(after)) return;
      const items = s.kind === 'list'
        ? diffBlockList(listItems(before), listItems(after), (_type, b, a) => {
          const changes: FieldChange[] = [];
          diffValue(registry, s.child, b, a, [], changes);
          return changes;
        })
        : diffBlockList(streamItems(before), streamItems(after), blockChanges(registry));
      if (items.some((it) => it.op !== 'unchanged' || it.moved)) out.push({ path, kind: 'list', items });
      return;
    }
    case 'ref':
      return;
  }
}

/**
 * A leaf value, by its JSON Schema: a string is rich text (contentMediaType text/html),
 * code (text/x-source-code), an identifier compared as a whole (it has a `pattern`,
 * `format`, `enum` or `const`: slugs, URLs, kernel names, languages) or prose (word
 * segments). Objects recurse per property with that property's schema; numbers,
 * booleans and null (ids, references, flags) are scalars; anything else is a replace.
 */
export function diffBySchema(schema: unknown, before: unknown, after: unknown, path: FieldPath, out: FieldChange[]): void {
  if (deepEqual(before, after)) return;
  const s = isPlainObject(schema) ? schema : {};
  if (typeof before === 'string' && typeof after === 'string') {
    if (s.contentMediaType === HTML) out.push(richTextDiff(path, before, after));
    else if (s.contentMediaType === CODE) out.push({ path, kind: 'code', hunks: lineDiff(before, after) });
    else if (isIdentifierSchema(s)) out.push(scalarChange(path, before, after));
    else out.push(textChange(path, before, after));
    return;
  }
  const props = s.properties;
  if (isPlainObject(before) && isPlainObject(after) && isPlainObject(props)) {
    const rest = s.additionalProperties;
    diffMembers(Object.keys(props), before, after, path, out, (key, b, a, at) => {
      diffBySchema(Object.hasOwn(props, key) ? props[key] : rest, b, a, at, out);
    });
    return;
  }
  out.push(isScalar(before) && isScalar(after) ? scalarChange(path, before, after) : replaceChange(path, before, after));
}

export function isIdentifierSchema(schema: Json): boolean {
  return 'pattern' in schema || 'format' in schema || 'enum' in schema || 'const' in schema;
}

/**
 * Visits the members of two objects that differ: `declared` first (in that order), then
 * any others in sorted order. A member on one side only is a `replace`.
 */
function diffMembers(
  declared: readonly string[], before: Json, after: Json, path: FieldPath, out: FieldChange[],
  visit: (key: string, before: unknown, after: unknown, at: FieldPath) => void,
): void {
  const known = new Set(declared);
  const extra = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !known.has(k)).sort();
  for (const key of [...declared, ...extra]) {
    const b = Object.hasOwn(before, key) ? before[key] : undefined;
    const a = Object.hasOwn(after, key) ? after[key] : undefined;
    if (deepEqual(b, a)) continue;
    const at = [...path, key];
    if (b === undefined || a === undefined) out.push(replaceChange(at, b, a));
    else visit(key, b, a, at);
  }
}
