import {
  GraphQLBoolean, GraphQLFloat, GraphQLInputObjectType, GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLObjectType,
  GraphQLString, GraphQLUnionType,
  type GraphQLFieldConfigMap, type GraphQLInputFieldConfigMap, type GraphQLInputType, type GraphQLNullableType,
  type GraphQLOutputType, type GraphQLType,
} from 'graphql';
import { GraphQLJSON } from './json-scalar.js';

export type JsonSchema = Record<string, unknown>;

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** JSON Schema's scalar types and theirs. */
const SCALARS: Record<string, typeof GraphQLString | typeof GraphQLInt | typeof GraphQLFloat | typeof GraphQLBoolean | undefined> = {
  string: GraphQLString, integer: GraphQLInt, number: GraphQLFloat, boolean: GraphQLBoolean,
};

/** "page-compare", "display_data" → "PageCompare", "DisplayData". */
export const pascal = (s: string) => s.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');

const typesOf = (s: JsonSchema): string[] => (Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === 'string' ? [s.type] : []);

/** A schema that allows null (its `type` lists "null"). */
export const isNullable = (s: JsonSchema) => typesOf(s).includes('null');

/**
 * GraphQL types from JSON Schemas (STYLE.md rule 5: each schema is written once): objects
 * become object types, arrays lists, `oneOf` objects told apart by a constant property
 * unions, and what GraphQL cannot type (maps, mixed types, property names that are not
 * GraphQL names) the JSON scalar. Types are shared by structure, so one schema written in
 * two places (a jupyter block's outputs, an execution's) is one GraphQL type, named where
 * it was first met.
 */
export class JsonSchemaTypes {
  private readonly byShape = new Map<string, GraphQLOutputType>();
  private readonly names = new Set<string>();
  private readonly inputsByShape = new Map<string, GraphQLInputType>();

  /** Reserves names used by hand-built types, so generated ones never clash with them. */
  reserve(...names: string[]): void {
    for (const n of names) this.names.add(n);
  }

  /**
   * The output type of `schema` (nullable: callers add NonNull for required members).
   * `root` holds the `definitions` that `$ref`s point to; `name` names a new object type.
   */
  output(schema: JsonSchema, name: string, root: JsonSchema): GraphQLOutputType & GraphQLNullableType {
    const s = this.deref(schema, root);
    const refName = typeof schema.$ref === 'string' ? (schema.$ref as string).split('/').pop()! : null;
    const typeName = refName ? pascal(refName) : typeof s.title === 'string' && NAME.test(pascal(s.title)) ? pascal(s.title) : name;
    const types = typesOf(s).filter((t) => t !== 'null');

    if (Array.isArray(s.oneOf) || Array.isArray(s.anyOf)) return this.union(s, typeName, root) ?? GraphQLJSON;
    if (s.const !== undefined || Array.isArray(s.enum)) {
      const values = (s.enum as unknown[] | undefined) ?? [s.const];
      return values.every((v) => typeof v === 'string') ? GraphQLString : GraphQLJSON;
    }
    if (types.length !== 1) return GraphQLJSON;
    const scalar = SCALARS[types[0]!];
    if (scalar) return scalar;
    switch (types[0]) {
      case 'array': {
        const items = (s.items ?? {}) as JsonSchema;
        const item = this.output(items, `${typeName}Item`, root);
        return new GraphQLList(isNullable(this.deref(items, root)) || item === GraphQLJSON ? item : new GraphQLNonNull(item));
      }
      case 'object': return this.object(s, typeName, root, {}) ?? GraphQLJSON;
      default: return GraphQLJSON;
    }
  }

  /** An object type for an object schema, with `extra` fields added; null when GraphQL cannot type it. */
  object(s: JsonSchema, name: string, root: JsonSchema, extra: GraphQLFieldConfigMap<unknown, unknown>, inherited: JsonSchema = {}): GraphQLObjectType | null {
    const properties = { ...((inherited.properties ?? {}) as Record<string, JsonSchema>), ...((s.properties ?? {}) as Record<string, JsonSchema>) };
    const keys = Object.keys(properties);
    if (!keys.length || !keys.every((k) => NAME.test(k))) return null;
    const shape = `object:${JSON.stringify(strip(s))}:${JSON.stringify(strip(inherited))}:${Object.keys(extra).join(',')}`;
    const known = this.byShape.get(shape);
    if (known instanceof GraphQLObjectType) return known;
    const required = new Set([...((inherited.required ?? []) as string[]), ...((s.required ?? []) as string[])]);
    const typeName = this.nameFor(name);
    this.names.add(typeName);
    const type: GraphQLObjectType = new GraphQLObjectType({
      name: typeName,
      ...(typeof s.description === 'string' ? { description: s.description } : {}),
      fields: () => {
        const fields: GraphQLFieldConfigMap<unknown, unknown> = {};
        for (const key of keys) {
          const prop = properties[key]!;
          const t = this.output(prop, `${typeName}${pascal(key)}`, root);
          const nonNull = required.has(key) && !isNullable(this.deref(prop, root)) && t !== GraphQLJSON;
          fields[key] = {
            type: nonNull ? new GraphQLNonNull(t) : t,
            ...(typeof prop.description === 'string' ? { description: prop.description } : {}),
          };
        }
        return { ...fields, ...extra };
      },
    });
    this.byShape.set(shape, type);
    return type;
  }

  /** `oneOf` objects that one constant property tells apart (`output_type`, `kind`) → a union. */
  private union(s: JsonSchema, name: string, root: JsonSchema): GraphQLUnionType | null {
    const alternatives = ((s.oneOf ?? s.anyOf) as JsonSchema[]).map((a) => this.deref(a, root));
    const discriminator = (s.discriminator as { propertyName?: string } | undefined)?.propertyName
      ?? Object.keys((alternatives[0]?.properties ?? {}) as object).find((k) => alternatives.every((a) => ((a.properties as Record<string, JsonSchema> | undefined)?.[k]?.const) !== undefined));
    if (!discriminator) return null;
    const shape = `union:${JSON.stringify(strip(s))}`;
    const known = this.byShape.get(shape);
    if (known instanceof GraphQLUnionType) return known;
    const members = new Map<string, GraphQLObjectType>();
    for (const alt of alternatives) {
      const value = (alt.properties as Record<string, JsonSchema>)[discriminator]!.const;
      if (typeof value !== 'string') return null;
      const type = this.object(alt, `${name}${pascal(value)}`, root, {}, { ...s, oneOf: undefined, anyOf: undefined });
      if (!type) return null;
      members.set(value, type);
    }
    const union = new GraphQLUnionType({
      name: this.nameFor(name),
      ...(typeof s.description === 'string' ? { description: s.description } : {}),
      types: [...members.values()],
      resolveType: (v) => members.get((v as Record<string, string>)[discriminator]!)?.name,
    });
    this.names.add(union.name);
    this.byShape.set(shape, union);
    return union;
  }

  /** An input object type for a request body schema (publish, move, revert…). */
  input(schema: JsonSchema, name: string): GraphQLInputType {
    const shape = JSON.stringify(strip(schema));
    const known = this.inputsByShape.get(shape);
    if (known) return known;
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((schema.required ?? []) as string[]);
    const fields: GraphQLInputFieldConfigMap = {};
    for (const [key, prop] of Object.entries(properties)) {
      if (!NAME.test(key)) return GraphQLJSON;
      const t = this.scalarInput(prop);
      fields[key] = {
        type: required.has(key) && !isNullable(prop) && t !== GraphQLJSON ? new GraphQLNonNull(t) : t,
        ...(typeof prop.description === 'string' ? { description: prop.description } : {}),
      };
    }
    const type = Object.keys(fields).length ? new GraphQLInputObjectType({ name: this.nameFor(name), fields }) : GraphQLJSON;
    if (type !== GraphQLJSON) this.names.add((type as GraphQLInputObjectType).name);
    this.inputsByShape.set(shape, type);
    return type;
  }

  private scalarInput(s: JsonSchema): GraphQLInputType & GraphQLNullableType {
    const types = typesOf(s).filter((t) => t !== 'null');
    return (types.length === 1 ? SCALARS[types[0]!] : undefined) ?? GraphQLJSON;
  }

  private deref(s: JsonSchema, root: JsonSchema): JsonSchema {
    let cur = s;
    for (let hops = 0; typeof cur.$ref === 'string' && hops < 10; hops++) {
      const path = (cur.$ref as string).replace(/^[^#]*#\/?/, '').split('/').filter(Boolean);
      let target: unknown = root;
      for (const p of path) target = (target as Record<string, unknown> | undefined)?.[p];
      if (!target || typeof target !== 'object') throw new Error(`unresolvable $ref ${String(cur.$ref)}`);
      cur = target as JsonSchema;
    }
    return cur;
  }

  private nameFor(base: string): string {
    let name = NAME.test(base) ? base : `T${pascal(base)}`;
    if (!this.names.has(name)) return name;
    for (let i = 2; ; i++) if (!this.names.has(`${name}${i}`)) { name = `${name}${i}`; break; }
    return name;
  }
}

/** Members that do not change a type's shape, left out of the structural key. */
function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'description' && k !== '$id' && k !== 'title' && k !== 'default' && k !== 'examples') out[k] = strip(x);
    return out;
  }
  return v;
}

export const nonNull = <T extends GraphQLType>(t: T) => new GraphQLNonNull(t as GraphQLOutputType & GraphQLNullableType);
