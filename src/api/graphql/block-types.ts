import {
  GraphQLID, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLString, GraphQLUnionType,
  type GraphQLFieldConfigMap, type GraphQLOutputType,
} from 'graphql';
import type { BlockRegistry, CompiledSpec } from '../../blocks/block-registry.js';
import { GraphQLJSON } from './json-scalar.js';
import { isNullable, nonNull, pascal, type JsonSchema, type JsonSchemaTypes } from './json-schema-types.js';

interface StoredBlock {
  type: string;
  value: unknown;
  id: string;
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const member = (key: string) => (source: unknown) => (source as Record<string, unknown> | null)?.[key] ?? null;

/**
 * The GraphQL side of blocks/*.json: one object type per block type (`JupyterBlock`
 * with `code`, `kernel`…; `HeadingBlock` with `value`), all members of the `Block`
 * union that every stream field lists. A block keeps `id`, `type` and its raw `value`;
 * an object value's members, a struct's children, a list's items and a nested stream's
 * blocks are typed fields as well.
 */
export class BlockTypes {
  readonly union: GraphQLUnionType;
  private readonly byName = new Map<string, GraphQLObjectType>();

  constructor(readonly registry: BlockRegistry, private readonly types: JsonSchemaTypes) {
    const blocks = registry.all();
    types.reserve('Block', ...blocks.map((b) => `${pascal(b.name)}Block`));
    for (const b of blocks) this.byName.set(b.name, this.blockType(b.name, b.description, b.spec));
    this.union = new GraphQLUnionType({
      name: 'Block',
      description: 'A block of a stream, by its type (blocks/*.json): ask for `... on JupyterBlock { code kernel }`.',
      types: [...this.byName.values()],
      resolveType: (v) => this.byName.get((v as StoredBlock).type)?.name,
    });
  }

  /** A stream's blocks: a list of the Block union. */
  get stream(): GraphQLOutputType {
    return new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(this.union)));
  }

  private blockType(name: string, description: string | undefined, spec: CompiledSpec): GraphQLObjectType {
    const typeName = `${pascal(name)}Block`;
    return new GraphQLObjectType({
      name: typeName,
      ...(description ? { description } : {}),
      fields: () => {
        const fields: GraphQLFieldConfigMap<StoredBlock, unknown> = {
          id: { type: new GraphQLNonNull(GraphQLID) },
          type: { type: new GraphQLNonNull(GraphQLString) },
          value: { type: GraphQLJSON, description: 'The value as stored (and as REST serves it).' },
        };
        Object.assign(fields, this.valueFields(spec, typeName, (b: StoredBlock) => b.value));
        return fields;
      },
    });
  }

  /**
   * Typed fields for a value: an object value's members, a struct's children; a scalar
   * value replaces the raw `value` with its typed self.
   */
  private valueFields(spec: CompiledSpec, typeName: string, valueOf: (source: any) => unknown): GraphQLFieldConfigMap<any, unknown> {
    const s = this.registry.resolve(spec);
    const fields: GraphQLFieldConfigMap<any, unknown> = {};
    if (s.kind === 'value') {
      const schema = s.schema as JsonSchema;
      const props = (schema.properties ?? null) as Record<string, JsonSchema> | null;
      if (schema.type === 'object' && props && Object.keys(props).every((k) => NAME.test(k) && k !== 'id' && k !== 'type' && k !== 'value')) {
        const required = new Set((schema.required ?? []) as string[]);
        for (const [key, prop] of Object.entries(props)) {
          const t = this.types.output(prop, `${typeName}${pascal(key)}`, schema);
          fields[key] = {
            type: required.has(key) && !isNullable(prop) && t !== GraphQLJSON ? nonNull(t) : t,
            ...(typeof prop.description === 'string' ? { description: prop.description } : {}),
            resolve: (src) => member(key)(valueOf(src)),
          };
        }
      } else if (schema.type !== 'object') {
        fields.value = { type: this.types.output(schema, `${typeName}Value`, schema), resolve: (src) => valueOf(src) ?? null };
      }
    } else if (s.kind === 'struct') {
      for (const [key, child] of s.children) {
        if (!NAME.test(key) || key === 'id' || key === 'type' || key === 'value') continue;
        const t = this.specType(child, `${typeName}${pascal(key)}`);
        fields[key] = { type: s.required.has(key) && t !== GraphQLJSON ? nonNull(t) : t, resolve: (src) => member(key)(valueOf(src)) };
      }
    } else {
      fields.items = { type: this.specType(s, `${typeName}Items`), resolve: (src) => valueOf(src) ?? null };
    }
    return fields;
  }

  /** The type of a page field that is not a stream (a value, struct or list). */
  fieldType(spec: CompiledSpec, typeName: string): GraphQLOutputType {
    return this.specType(spec, typeName);
  }

  /** The type of a struct child or list item value. */
  private specType(spec: CompiledSpec, typeName: string): GraphQLOutputType {
    const s = this.registry.resolve(spec);
    switch (s.kind) {
      case 'value':
        return this.types.output(s.schema as JsonSchema, typeName, s.schema as JsonSchema);
      case 'stream':
        return new GraphQLList(new GraphQLNonNull(this.union));
      case 'list': {
        const item = new GraphQLObjectType({
          name: `${typeName}Item`,
          fields: () => ({
            id: { type: new GraphQLNonNull(GraphQLID) },
            value: { type: GraphQLJSON },
            ...this.valueFields(s.child, `${typeName}Item`, (item: StoredBlock) => item.value),
          }),
        });
        return new GraphQLList(new GraphQLNonNull(item));
      }
      case 'struct': {
        const fields = this.valueFields(s, typeName, (v: unknown) => v);
        return Object.keys(fields).length ? new GraphQLObjectType({ name: typeName, fields: () => fields }) : GraphQLJSON;
      }
      default:
        return GraphQLJSON;
    }
  }
}
