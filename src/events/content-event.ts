/**
 * What happened to content, told after the write is durable (git refs moved, rows
 * committed): GraphQL's pageChanged subscription and webhooks both hear these.
 */
export type ContentEventType = 'revision.created' | 'page.published' | 'page.unpublished' | 'page.moved' | 'page.deleted';

export const CONTENT_EVENT_TYPES: readonly ContentEventType[] = ['revision.created', 'page.published', 'page.unpublished', 'page.moved', 'page.deleted'];

export interface ContentEvent {
  /** Unique per event (webhook receivers deduplicate on it). */
  id: string;
  type: ContentEventType;
  page: number;
  /** The page's ancestors, root first (for subtree subscriptions); after a move, the new ones. */
  ancestors: number[];
  /** The revision created, published or moved; null for unpublish and delete. */
  revision: number | null;
  /** Who did it (a token's name, or "Lectern scheduler"). */
  actor: string;
  /** ISO 8601. */
  at: string;
}
