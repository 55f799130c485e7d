import type { BlockRegistry, CompiledSpec } from './block-registry.js';

export type JsonSchema = Record<string, unknown>;

/** The $id under which a named block's stored form ({type, value, id}) is published. */
export const blockSchemaId = (name: string) => `Block_${name}`;
/** The $id of a named block's value alone (what a struct child that refers to it holds). */
export const blockValueSchemaId = (name: string) => `BlockValue_${name}`;
const valueRef = (name: string): JsonSchema => ({ $ref: `${blockValueSchemaId(name)}#` });

const BLOCK_ID = { type: 'string', format: 'uuid', description: 'Stable block id (UUID); assigned on save when absent.' };

/** The JSON Schema of a stored value of `spec`, referring to named blocks by $ref. */
export function valueJsonSchema(spec: CompiledSpec, ref: (name: string) => JsonSchema): JsonSchema {
  switch (spec.kind) {
    case 'value':
      return spec.schema;
    case 'ref':
      return ref(spec.block);
    case 'struct':
      return {
        type: 'object',
        properties: Object.fromEntries([...spec.children].map(([name, child]) => [name, valueJsonSchema(child, ref)])),
        required: spec.required.size ? [...spec.required] : undefined,
        additionalProperties: false,
      };
    case 'list':
      return {
        type: 'array',
        minItems: spec.minItems,
        maxItems: spec.maxItems,
        items: {
          type: 'object',
          properties: { type: { const: 'item' }, value: valueJsonSchema(spec.child, ref), id: BLOCK_ID },
          required: ['type', 'value'],
          additionalProperties: false,
        },
      };
    case 'stream':
      return {
        type: 'array',
        minItems: spec.minItems,
        maxItems: spec.maxItems,
        items: { oneOf: spec.blocks.map((b) => ({ $ref: `${blockSchemaId(b)}#` })) },
      };
  }
}

/**
 * Two schemas per block type: its value (`BlockValue_<name>`) and its stored form
 * `{type, value, id}` in a stream (`Block_<name>`).
 */
export function blockJsonSchemas(registry: BlockRegistry): JsonSchema[] {
  return registry.all().flatMap((block) => [
    { $id: blockValueSchemaId(block.name), title: `${block.label} value`, ...valueJsonSchema(block.spec, valueRef) },
    {
      $id: blockSchemaId(block.name),
      title: `${block.label} block`,
      description: block.description,
      type: 'object',
      properties: { type: { const: block.name }, value: valueRef(block.name), id: BLOCK_ID },
      required: ['type', 'value'],
      additionalProperties: false,
    },
  ]).map(pruneUndefined);
}

/** A page-type field's schema, with named blocks by $ref. */
export const fieldJsonSchema = (spec: CompiledSpec): JsonSchema => pruneUndefined(valueJsonSchema(spec, valueRef));

/** Removes undefined members so the output is clean JSON. */
export function pruneUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
