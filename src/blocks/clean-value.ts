import type { FieldError } from '../errors.js';
import { ajvErrorsToFieldErrors, joinPointer } from './ajv.js';
import { isBlockId, newBlockId } from './block-ids.js';
import type { BlockRegistry, CompiledSpec } from './block-registry.js';
import { sanitizeRichText } from './sanitize-rich-text.js';
import { cleanOutputs } from './sanitize-outputs.js';
import type { NbOutput } from '../generated/schema-types.js';
import { sortKeysDeep } from './sort-keys.js';

/** A block as stored in a stream: Wagtail's `{type, value, id}`. */
export interface StoredBlock {
  type: string;
  value: unknown;
  id: string;
}

export interface CleanContext {
  readonly registry: BlockRegistry;
  readonly errors: FieldError[];
  /** Every block id seen in the page so far, with the pointer where it first appeared. */
  readonly ids: Map<string, string>;
}

export function newCleanContext(registry: BlockRegistry): CleanContext {
  return { registry, errors: [], ids: new Map() };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

/**
 * Validates `input` against `spec` and returns the value to store: ids given to blocks
 * and list items that had none, rich text sanitized, list items wrapped as
 * `{type: "item", value, id}`, defaults filled in. Problems are appended to
 * `ctx.errors` with the JSON pointer of the offending place; `label` (the block type or
 * field being cleaned) starts each message. The caller decides whether to store.
 */
export function cleanValue(spec: CompiledSpec, input: unknown, path: string, ctx: CleanContext, label: string): unknown {
  const fail = (at: string, message: string) => { ctx.errors.push({ path: at, message: `${label}: ${message}` }); };

  switch (spec.kind) {
    case 'ref':
      return cleanValue(ctx.registry.get(spec.block).spec, input, path, ctx, label);

    case 'value': {
      // Sorted keys: the stored form is canonical whatever order a client sent.
      const value = sortKeysDeep(input);
      if (!spec.validate(value)) {
        ctx.errors.push(...ajvErrorsToFieldErrors(spec.validate.errors, path, `${label}: `));
        return value;
      }
      if (spec.format === 'richtext' && typeof value === 'string') return sanitizeRichText(value);
      if (!isPlainObject(value)) return value;
      for (const key of spec.htmlProperties) {
        if (typeof value[key] === 'string') value[key] = sanitizeRichText(value[key]);
      }
      for (const key of spec.outputProperties) {
        if (Array.isArray(value[key])) value[key] = cleanOutputs(value[key] as NbOutput[]);
      }
      // Defaults filled in by validation land at the end: sort again.
      return sortKeysDeep(value);
    }

    case 'struct': {
      if (!isPlainObject(input)) {
        fail(path, `must be an object, not ${describe(input)}`);
        return input;
      }
      for (const key of Object.keys(input)) {
        if (!spec.children.has(key)) fail(joinPointer(path, key), `"${key}" is not a field of this block (fields: ${[...spec.children.keys()].join(', ')})`);
      }
      const out: Record<string, unknown> = {};
      for (const [name, child] of spec.children) {
        const v = input[name];
        if (v === undefined || v === null) {
          const leaf = ctx.registry.resolve(child);
          if (leaf.kind === 'value' && leaf.hasDefault) out[name] = structuredClone(leaf.schema.default);
          else if (spec.required.has(name)) fail(joinPointer(path, name), 'is required');
          continue;
        }
        out[name] = cleanValue(child, v, joinPointer(path, name), ctx, label);
      }
      return out;
    }

    case 'list': {
      if (!Array.isArray(input)) {
        fail(path, `must be a list, not ${describe(input)}`);
        return input;
      }
      if (spec.minItems !== undefined && input.length < spec.minItems) fail(path, `must have at least ${spec.minItems} items`);
      if (spec.maxItems !== undefined && input.length > spec.maxItems) fail(path, `must have at most ${spec.maxItems} items`);
      return input.map((item, i) => {
        const at = joinPointer(path, i);
        // Items come as {type: "item", value, id} (as stored) or as bare values (as typed).
        const wrapped = isPlainObject(item) && item.type === 'item' && 'value' in item
          && Object.keys(item).every((k) => k === 'type' || k === 'value' || k === 'id');
        const id = claimId(wrapped ? item.id : undefined, joinPointer(at, 'id'), ctx, label);
        const valuePath = wrapped ? joinPointer(at, 'value') : at;
        return { type: 'item', value: cleanValue(spec.child, wrapped ? item.value : item, valuePath, ctx, label), id };
      });
    }

    case 'stream':
      return cleanStream(spec, input, path, ctx, label);
  }
}

function cleanStream(spec: Extract<CompiledSpec, { kind: 'stream' }>, input: unknown, path: string, ctx: CleanContext, label: string): StoredBlock[] | unknown {
  if (!Array.isArray(input)) {
    ctx.errors.push({ path, message: `${label}: must be a list of blocks, not ${describe(input)}` });
    return input;
  }
  const counts = new Map<string, number>();
  const out: StoredBlock[] = [];
  input.forEach((block, i) => {
    const at = joinPointer(path, i);
    if (!isPlainObject(block)) {
      ctx.errors.push({ path: at, message: `${label}: a block must be an object {type, value, id}, not ${describe(block)}` });
      return;
    }
    const { type, value } = block;
    if (typeof type !== 'string') {
      ctx.errors.push({ path: joinPointer(at, 'type'), message: `${label}: a block needs a "type" (one of ${spec.blocks.join(', ')})` });
      return;
    }
    if (!ctx.registry.has(type)) {
      ctx.errors.push({ path: joinPointer(at, 'type'), message: `unknown block type "${type}" (known: ${ctx.registry.names().join(', ')})` });
      return;
    }
    if (!spec.blocks.includes(type)) {
      ctx.errors.push({ path: joinPointer(at, 'type'), message: `${label}: block type "${type}" is not allowed here (allowed: ${spec.blocks.join(', ')})` });
      return;
    }
    for (const key of Object.keys(block)) {
      if (key !== 'type' && key !== 'value' && key !== 'id') {
        ctx.errors.push({ path: joinPointer(at, key), message: `${type}: "${key}" is not part of a block (type, value, id)` });
      }
    }
    counts.set(type, (counts.get(type) ?? 0) + 1);
    const id = claimId(block.id, joinPointer(at, 'id'), ctx, type);
    if (value === undefined) {
      ctx.errors.push({ path: joinPointer(at, 'value'), message: `${type}: a block needs a "value"` });
      return;
    }
    out.push({ type, value: cleanValue(ctx.registry.get(type).spec, value, joinPointer(at, 'value'), ctx, type), id });
  });
  if (spec.minItems !== undefined && input.length < spec.minItems) {
    ctx.errors.push({ path, message: `${label}: must have at least ${spec.minItems} blocks` });
  }
  if (spec.maxItems !== undefined && input.length > spec.maxItems) {
    ctx.errors.push({ path, message: `${label}: must have at most ${spec.maxItems} blocks` });
  }
  for (const [type, { min, max }] of Object.entries(spec.blockCounts)) {
    const n = counts.get(type) ?? 0;
    if (min !== undefined && n < min) ctx.errors.push({ path, message: `${label}: needs at least ${min} ${type} block(s), has ${n}` });
    if (max !== undefined && n > max) ctx.errors.push({ path, message: `${label}: allows at most ${max} ${type} block(s), has ${n}` });
  }
  return out;
}

/** Keeps a valid given id (unique in the page) or mints one for a new block. */
function claimId(given: unknown, at: string, ctx: CleanContext, label: string): string {
  if (given === undefined || given === null) return newBlockId();
  if (!isBlockId(given)) {
    ctx.errors.push({ path: at, message: `${label}: block id must be a UUID, got ${JSON.stringify(given)}` });
    return newBlockId();
  }
  const first = ctx.ids.get(given);
  if (first !== undefined) {
    ctx.errors.push({ path: at, message: `${label}: duplicate block id ${given} (first used at ${first})` });
  } else {
    ctx.ids.set(given, at.replace(/\/id$/, ''));
  }
  return given;
}
