import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import type {
  BlockDefinition, BlockSpec, ListSpec, StreamSpec, StructSpec,
} from '../generated/schema-types.js';
import { ajvErrorsToFieldErrors, createAjv } from './ajv.js';
import blockDefinitionSchema from '../../schemas/block-definition.json' with { type: 'json' };

/** What a leaf string is, for sanitizing and diffing: from its schema's contentMediaType. */
export type TextFormat = 'richtext' | 'code' | 'text';

export type CompiledSpec =
  | { kind: 'value'; schema: Record<string, unknown>; validate: ValidateFunction; format: TextFormat | null; htmlProperties: string[]; codeProperties: string[]; outputProperties: string[]; hasDefault: boolean }
  | { kind: 'struct'; children: Map<string, CompiledSpec>; required: Set<string> }
  | { kind: 'list'; child: CompiledSpec; minItems: number | undefined; maxItems: number | undefined }
  | { kind: 'stream'; blocks: string[]; minItems: number | undefined; maxItems: number | undefined; blockCounts: NonNullable<StreamSpec['blockCounts']> }
  | { kind: 'ref'; block: string };

export interface NamedBlock {
  name: string;
  label: string;
  description: string | undefined;
  definition: BlockDefinition;
  spec: CompiledSpec;
}

export class BlockDefinitionError extends Error {
  override name = 'BlockDefinitionError';
}

const HTML = 'text/html';
const CODE = 'text/x-source-code';
/** An array of Jupyter output dicts (a jupyter block's stored outputs). */
const OUTPUTS = 'application/x-ipynb+json';

/**
 * The block types of this installation, loaded from blocks/*.json at start and compiled
 * once. Page types compile their fields through the same registry, so a stream in a page
 * type and a stream inside a block are one thing.
 */
export class BlockRegistry {
  private readonly blocks = new Map<string, NamedBlock>();
  private readonly ajv = createAjv();

  static load(dir: string): BlockRegistry {
    const registry = new BlockRegistry();
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    if (files.length === 0) throw new BlockDefinitionError(`no block definitions in ${dir}`);
    const checkDefinition = registry.ajv.compile(blockDefinitionSchema);
    for (const file of files) {
      const where = join(dir, file);
      let def: BlockDefinition;
      try {
        def = JSON.parse(readFileSync(where, 'utf8')) as BlockDefinition;
      } catch (err) {
        throw new BlockDefinitionError(`${where}: not valid JSON (${(err as Error).message})`);
      }
      if (!checkDefinition(def)) {
        const detail = ajvErrorsToFieldErrors(checkDefinition.errors, '').map((e) => `${e.path || '/'} ${e.message}`).join('; ');
        throw new BlockDefinitionError(`${where}: ${detail}`);
      }
      if (`${def.name}.json` !== file) throw new BlockDefinitionError(`${where}: name "${def.name}" must match the file name`);
      registry.blocks.set(def.name, {
        name: def.name,
        label: (def as { label?: string }).label ?? def.name,
        description: (def as { description?: string }).description,
        definition: def,
        spec: registry.compile(def, where),
      });
    }
    for (const block of registry.blocks.values()) registry.checkReferences(block.spec, `block ${block.name}`);
    return registry;
  }

  has(name: string): boolean {
    return this.blocks.has(name);
  }

  get(name: string): NamedBlock {
    const block = this.blocks.get(name);
    if (!block) throw new BlockDefinitionError(`unknown block type ${name}`);
    return block;
  }

  names(): string[] {
    return [...this.blocks.keys()];
  }

  all(): NamedBlock[] {
    return [...this.blocks.values()];
  }

  /** Follows refs to the spec that holds the value. */
  resolve(spec: CompiledSpec): CompiledSpec {
    let s = spec;
    for (let hops = 0; s.kind === 'ref'; hops++) {
      if (hops > 32) throw new BlockDefinitionError(`ref cycle at ${s.block}`);
      s = this.get(s.block).spec;
    }
    return s;
  }

  /** Compiles a spec (a block file or a page-type field); `where` names it in errors. */
  compile(spec: BlockSpec, where: string): CompiledSpec {
    switch (spec.kind) {
      case 'value': {
        const schema = spec.schema as Record<string, unknown>;
        let validate: ValidateFunction;
        // ajv only applies defaults to properties; a leaf's own default is applied by the struct holding it.
        const { default: _rootDefault, ...compiled } = schema;
        try {
          validate = this.ajv.compile(compiled);
        } catch (err) {
          throw new BlockDefinitionError(`${where}: invalid value schema (${(err as Error).message})`);
        }
        const props = (schema.properties ?? {}) as Record<string, { contentMediaType?: string }>;
        return {
          kind: 'value',
          schema,
          validate,
          format: schema.type === 'string' ? formatOf(schema.contentMediaType) : null,
          htmlProperties: Object.keys(props).filter((k) => props[k]?.contentMediaType === HTML),
          codeProperties: Object.keys(props).filter((k) => props[k]?.contentMediaType === CODE),
          outputProperties: Object.keys(props).filter((k) => props[k]?.contentMediaType === OUTPUTS),
          hasDefault: 'default' in schema,
        };
      }
      case 'struct': {
        const s = spec as StructSpec;
        const children = new Map<string, CompiledSpec>();
        for (const [name, child] of Object.entries(s.children)) children.set(name, this.compile(child, `${where}.${name}`));
        for (const r of s.required ?? []) {
          if (!children.has(r)) throw new BlockDefinitionError(`${where}: required child "${r}" is not declared`);
        }
        return { kind: 'struct', children, required: new Set(s.required ?? []) };
      }
      case 'list': {
        const l = spec as ListSpec;
        return { kind: 'list', child: this.compile(l.child, `${where}[]`), minItems: l.minItems, maxItems: l.maxItems };
      }
      case 'stream':
        return { kind: 'stream', blocks: [...spec.blocks], minItems: spec.minItems, maxItems: spec.maxItems, blockCounts: spec.blockCounts ?? {} };
      case 'ref':
        return { kind: 'ref', block: spec.block };
    }
  }

  /** Every ref and every stream member must name a block type that exists. */
  checkReferences(spec: CompiledSpec, where: string): void {
    switch (spec.kind) {
      case 'ref':
        if (!this.blocks.has(spec.block)) throw new BlockDefinitionError(`${where}: refers to unknown block type "${spec.block}"`);
        return;
      case 'stream':
        for (const b of spec.blocks) {
          if (!this.blocks.has(b)) throw new BlockDefinitionError(`${where}: stream accepts unknown block type "${b}"`);
        }
        for (const b of Object.keys(spec.blockCounts)) {
          if (!spec.blocks.includes(b)) throw new BlockDefinitionError(`${where}: blockCounts names "${b}", which the stream does not accept`);
        }
        return;
      case 'struct':
        for (const [name, child] of spec.children) this.checkReferences(child, `${where}.${name}`);
        return;
      case 'list':
        this.checkReferences(spec.child, `${where}[]`);
        return;
      case 'value':
        return;
    }
  }
}

function formatOf(mediaType: unknown): TextFormat {
  if (mediaType === HTML) return 'richtext';
  if (mediaType === CODE) return 'code';
  return 'text';
}
