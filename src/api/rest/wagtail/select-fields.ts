import { FieldsParseError, parseFieldsParameter, type FieldItem } from './parse-fields.js';

/** The fields to output, and the nested selections of relation fields. */
export interface FieldSelection {
  fields: Set<string>;
  /** The selected fields in output order (the catalogue's order, not the request's). */
  order: string[];
  nested: Map<string, FieldSelection>;
}

export interface FieldCatalogue {
  /** Every available field, in output order. */
  all: string[];
  defaults: readonly string[];
  /** Fields that are relations to pages and accept a nested selection, with their own catalogue. */
  relations: Map<string, FieldCatalogue>;
}

export class FieldsError extends Error {
  override name = 'FieldsError';
}

/**
 * Applies a parsed `fields` parameter to a catalogue the way Wagtail's
 * `_get_serializer_class` does: `*` starts from all fields, `_` from none, otherwise
 * from the defaults; `-x` removes, `x` adds; names outside the catalogue are an error.
 */
export function selectFields(param: string | undefined, catalogue: FieldCatalogue): FieldSelection {
  let items: FieldItem[];
  try {
    items = param ? parseFieldsParameter(param) : [];
  } catch (err) {
    if (err instanceof FieldsParseError) throw new FieldsError(`fields error: ${err.message}`);
    throw err;
  }
  return apply(items, catalogue);
}

function apply(items: FieldItem[], catalogue: FieldCatalogue): FieldSelection {
  let fields: Set<string>;
  let rest = items;
  if (items[0]?.name === '*') {
    fields = new Set(catalogue.all);
    rest = items.slice(1);
  } else if (items[0]?.name === '_') {
    fields = new Set();
    rest = items.slice(1);
  } else {
    fields = new Set(catalogue.defaults);
  }
  const mentioned = new Set<string>();
  const subs = new Map<string, FieldItem[]>();
  for (const item of rest) {
    if (item.negated) fields.delete(item.name);
    else {
      fields.add(item.name);
      if (item.sub?.length) subs.set(item.name, item.sub);
    }
    mentioned.add(item.name);
  }
  const known = new Set(catalogue.all);
  const unknown = [...mentioned].filter((n) => !known.has(n)).sort();
  if (unknown.length) throw new FieldsError(`unknown fields: ${unknown.join(', ')}`);

  const nested = new Map<string, FieldSelection>();
  for (const name of catalogue.all) {
    if (!fields.has(name)) continue;
    const relation = catalogue.relations.get(name);
    if (relation) nested.set(name, apply(subs.get(name) ?? [], relation));
    else if (subs.has(name)) throw new FieldsError(`'${name}' does not support nested fields`);
  }
  return { fields, order: catalogue.all.filter((n) => fields.has(n)), nested };
}
