import type { Client } from 'graphql-ws';

/** The shapes the GraphQL subscription tests read (the fields they ask for). */
export interface ContentEventFields { id: string; type: string; page: number; ancestors: number[]; revision: number | null; actor: string; at?: string }
export interface ExecutionEventFields { seq: number; event: 'output' | 'status'; output: { name?: string; text?: string } | null; status: Record<string, unknown> | null }

export const EXECUTION_EVENTS = `subscription($id: String!) {
  executionEvents(execution: $id) { seq event output { ... on NbOutputStream { name text } } status }
}`;

/** One subscription's results as they arrive, read by a background loop over `client.iterate`. */
export class Feed<T> {
  readonly data: T[] = [];
  /** What ended it with an error: the GraphQL errors of an `error` message, or the socket's close event. */
  error: unknown = null;
  ended = false;
  readonly done: Promise<void>;
  private readonly iterator: AsyncIterableIterator<{ data?: unknown; errors?: unknown }>;

  constructor(client: Client, query: string, variables: Record<string, unknown>) {
    const iterator = client.iterate({ query, variables });
    this.iterator = iterator;
    this.done = (async () => {
      try {
        for await (const result of iterator) {
          if (result.errors) this.error = result.errors;
          else this.data.push(result.data as T);
        }
      } catch (err) {
        this.error = err;
      } finally {
        this.ended = true;
      }
    })();
  }

  async stop(): Promise<void> {
    await this.iterator.return?.();
    await this.done;
  }
}
