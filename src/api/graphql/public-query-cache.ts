import { Kind, parse, type OperationTypeNode } from 'graphql';

/** How many query texts' operation types are remembered. */
const KNOWN_MAX = 1_000;

/**
 * Tells whether a GraphQL request only reads (a `query` operation), so its answer may be
 * kept in the public read cache like a REST read: the query text is parsed once, then
 * remembered. Malformed queries and mutations are never cacheable.
 */
export class QueryKinds {
  private readonly known = new Map<string, Map<string | null, OperationTypeNode> | null>();

  isQuery(source: string, operationName: string | null | undefined): boolean {
    let ops = this.known.get(source);
    if (ops === undefined) {
      ops = operationsOf(source);
      if (this.known.size >= KNOWN_MAX) this.known.delete(this.known.keys().next().value!);
      this.known.set(source, ops);
    }
    if (!ops) return false;
    const op = operationName ? ops.get(operationName) : ops.size === 1 ? [...ops.values()][0] : undefined;
    return op === 'query';
  }
}

function operationsOf(source: string): Map<string | null, OperationTypeNode> | null {
  try {
    const doc = parse(source);
    const ops = new Map<string | null, OperationTypeNode>();
    for (const def of doc.definitions) if (def.kind === Kind.OPERATION_DEFINITION) ops.set(def.name?.value ?? null, def.operation);
    return ops;
  } catch {
    return null;
  }
}
