import {
  GraphQLError, getNamedType, getNullableType, isInterfaceType, isListType, isObjectType, Kind,
  type ASTVisitor, type FragmentDefinitionNode, type GraphQLNamedType, type GraphQLSchema, type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

/** Lists without a `limit` argument (a lesson's blocks, ancestors) count this many items. */
const UNPAGED_LIST = 10;
/** The default `limit` of paged fields (as REST's). */
const DEFAULT_LIMIT = 20;

/**
 * Refuses operations that would cost more than `max`: every field costs one, times the
 * number of items of the lists it sits in (a field's `limit`, else 20 for paged fields
 * and 10 for plain lists), so `pages(limit: 20) { items { children { items { body … } } } }`
 * is priced before anything runs.
 */
export function complexityRule(max: number) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const schema = context.getSchema();
      const root = node.operation === 'query' ? schema.getQueryType() : node.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
      if (!root) return;
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
      const total = cost(schema, node.selectionSet, root, 1, fragments, new Set());
      if (total > max) {
        context.reportError(new GraphQLError(`the operation is too complex: it costs ${total}, and at most ${max} is allowed (ask for fewer fields or smaller limits)`, {
          nodes: [node], extensions: { code: 'CMS_ERR_GRAPHQL_TOO_COMPLEX', cost: total, max },
        }));
      }
    },
  });
}

function cost(
  schema: GraphQLSchema, set: SelectionSetNode, parent: GraphQLNamedType, multiplier: number,
  fragments: Map<string, FragmentDefinitionNode>, seen: Set<string>, paged = false,
): number {
  let total = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.INLINE_FRAGMENT) {
      const t = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) ?? parent : parent;
      total += cost(schema, sel.selectionSet, t, multiplier, fragments, seen, paged);
    } else if (sel.kind === Kind.FRAGMENT_SPREAD) {
      const frag = fragments.get(sel.name.value);
      if (!frag || seen.has(frag.name.value)) continue;
      const t = schema.getType(frag.typeCondition.name.value) ?? parent;
      total += cost(schema, frag.selectionSet, t, multiplier, fragments, new Set([...seen, frag.name.value]), paged);
    } else {
      total += multiplier;
      if (!sel.selectionSet || !(isObjectType(parent) || isInterfaceType(parent))) continue;
      const def = parent.getFields()[sel.name.value];
      if (!def) continue;
      const limitArg = sel.arguments?.find((a) => a.name.value === 'limit');
      const hasLimit = def.args.some((a) => a.name === 'limit');
      let items = 1;
      if (hasLimit) items = limitArg?.value.kind === Kind.INT ? Number(limitArg.value.value) : DEFAULT_LIMIT;
      else if (isListType(getNullableType(def.type)) && !paged) items = UNPAGED_LIST;
      // The `items` of a paged field's answer are the `limit` already counted.
      total += cost(schema, sel.selectionSet, getNamedType(def.type), multiplier * Math.max(1, items), fragments, seen, hasLimit);
    }
  }
  return total;
}
