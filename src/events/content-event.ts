import type { ContentEvent } from '../generated/schema-types.js';

/**
 * What happened to content, told after the write is durable (git refs moved, rows
 * committed): GraphQL's pageChanged subscription and webhooks both hear these. The shape
 * is schemas/api/content-event.json.
 */
export type { ContentEvent };

export type ContentEventType = ContentEvent['type'];

export const CONTENT_EVENT_TYPES: readonly ContentEventType[] = ['revision.created', 'page.published', 'page.unpublished', 'page.moved', 'page.deleted'];
