import type { RevisionRow } from '../../content/page-store.js';
import type { Revision } from '../../generated/schema-types.js';
import { formatDate } from './wagtail/page-serializer.js';

/** A revision as the API shows it (schemas/api/revision.json), in REST and GraphQL. */
export function revisionJson(r: RevisionRow, liveRevision: number | null): Revision {
  return {
    id: r.id,
    page: r.pageId,
    action: r.action as Revision['action'],
    author: r.authorName,
    created_at: formatDate(r.createdAt)!,
    message: r.message,
    commit: r.commit,
    blob: r.blob,
    live: r.id === liveRevision,
  };
}
