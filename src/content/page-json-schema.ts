import { fieldJsonSchema, type JsonSchema } from '../blocks/block-json-schema.js';
import type { PageType, PageTypeRegistry } from './page-types.js';
import pageWriteSchema from '../../schemas/api/page-write.json' with { type: 'json' };

export const pageSchemaId = (type: string) => `Page_${type}`;
export const pageWriteSchemaId = (type: string) => `PageWrite_${type}`;

const fieldProperties = (type: PageType) => Object.fromEntries(type.fields.map((f) => [f.name, fieldJsonSchema(f.spec)]));

/**
 * JSON Schemas of each page type, generated from schemas/page-types/ and blocks/:
 * the page as the read API returns it (`Page_<type>`) and as a write sends it
 * (`PageWrite_<type>`, the common members of schemas/api/page-write.json plus the type's fields).
 */
export function pageJsonSchemas(types: PageTypeRegistry): JsonSchema[] {
  const { $id: _id, title: _title, ...common } = pageWriteSchema;
  return types.all().flatMap((type) => [
    {
      $id: pageSchemaId(type.name),
      title: `${type.label} page`,
      description: type.description,
      type: 'object',
      properties: {
        id: { type: 'integer' },
        meta: { $ref: 'PageMeta#' },
        title: { type: 'string' },
        ...fieldProperties(type),
      },
      required: ['id', 'meta', 'title'],
    },
    {
      $id: pageWriteSchemaId(type.name),
      title: `${type.label} page payload`,
      description: `${common.description} Fields of ${type.name} pages: ${type.fields.map((f) => f.name).join(', ')}.`,
      type: 'object',
      properties: { ...common.properties, type: { const: type.name }, ...fieldProperties(type) },
      required: ['type', 'title', ...(type.definition.required ?? [])],
      additionalProperties: false,
    },
  ]);
}
