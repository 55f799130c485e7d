import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ajvErrorsToFieldErrors, createAjv } from '../blocks/ajv.js';
import { BlockDefinitionError, type BlockRegistry, type CompiledSpec } from '../blocks/block-registry.js';
import type { PageTypeDefinition } from '../generated/schema-types.js';
import blockDefinitionSchema from '../../schemas/block-definition.json' with { type: 'json' };
import pageTypeDefinitionSchema from '../../schemas/page-type-definition.json' with { type: 'json' };

export interface PageField {
  name: string;
  spec: CompiledSpec;
  required: boolean;
  /** A scalar value (string, number, boolean): filterable and orderable in the read API. */
  scalar: boolean;
}

export interface PageType {
  name: string;
  label: string;
  description: string | undefined;
  allowedAtRoot: boolean;
  childTypes: string[];
  /** In declaration order: the order of the page file and of API output. */
  fields: PageField[];
  fieldsByName: Map<string, PageField>;
  searchFields: string[];
  definition: PageTypeDefinition;
}

/** The page types of this installation, from schemas/page-types/*.json. */
export class PageTypeRegistry {
  private readonly types = new Map<string, PageType>();

  constructor(readonly blocks: BlockRegistry) {}

  static load(dir: string, blocks: BlockRegistry): PageTypeRegistry {
    const registry = new PageTypeRegistry(blocks);
    const ajv = createAjv();
    ajv.addSchema(blockDefinitionSchema);
    const check = ajv.compile(pageTypeDefinitionSchema);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      const where = join(dir, file);
      const def = JSON.parse(readFileSync(where, 'utf8')) as PageTypeDefinition;
      if (!check(def)) {
        const detail = ajvErrorsToFieldErrors(check.errors, '').map((e) => `${e.path || '/'} ${e.message}`).join('; ');
        throw new BlockDefinitionError(`${where}: ${detail}`);
      }
      if (`${def.name}.json` !== file) throw new BlockDefinitionError(`${where}: name "${def.name}" must match the file name`);
      const required = new Set(def.required ?? []);
      const fields: PageField[] = Object.entries(def.fields).map(([name, spec]) => {
        const compiled = blocks.compile(spec, `${where}#${name}`);
        blocks.checkReferences(compiled, `${where}#${name}`);
        const resolved = blocks.resolve(compiled);
        const schemaType = resolved.kind === 'value' ? resolved.schema.type : undefined;
        return {
          name,
          spec: compiled,
          required: required.has(name),
          scalar: schemaType === 'string' || schemaType === 'integer' || schemaType === 'number' || schemaType === 'boolean',
        };
      });
      for (const r of required) {
        if (!def.fields[r]) throw new BlockDefinitionError(`${where}: required field "${r}" is not declared`);
      }
      registry.types.set(def.name, {
        name: def.name,
        label: def.label,
        description: def.description,
        allowedAtRoot: def.allowedAtRoot ?? true,
        childTypes: def.childTypes ?? [],
        fields,
        fieldsByName: new Map(fields.map((f) => [f.name, f])),
        searchFields: def.searchFields ?? [],
        definition: def,
      });
    }
    for (const t of registry.types.values()) {
      for (const c of t.childTypes) {
        if (!registry.types.has(c)) throw new BlockDefinitionError(`page type ${t.name}: childTypes names unknown type "${c}"`);
      }
    }
    if (registry.types.size === 0) throw new BlockDefinitionError(`no page types in ${dir}`);
    return registry;
  }

  get(name: string): PageType | undefined {
    return this.types.get(name);
  }

  names(): string[] {
    return [...this.types.keys()];
  }

  all(): PageType[] {
    return [...this.types.values()];
  }
}
