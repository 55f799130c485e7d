import { authorEmail, formatCommitMessage } from '../../history/commit-message.js';
import type { WriteSession } from '../../history/revision-store.js';
import type { Actor } from '../content-context.js';
import { serializePageDoc, type PageDoc } from '../page-document.js';
import { nextRevisionId } from '../page-store.js';

export interface SavedRevision {
  revisionId: number;
  commit: string;
  blob: string;
  date: Date;
  message: string;
  /** The commit on `live` when the revision was published in the same write. */
  liveCommit: string | null;
}

/**
 * Writes one revision of a page to git: the file as a blob, a commit on `main`, and a
 * commit on `live` too when `publish` is set. Returns what the database rows record.
 */
export async function saveRevision(session: WriteSession, args: {
  doc: PageDoc; actor: Actor; action: string; message: string | undefined; defaultMessage: string; publish: boolean; date: Date;
}): Promise<SavedRevision> {
  const { doc, actor, action, date } = args;
  const revisionId = await nextRevisionId(session.db);
  const blob = await session.repo.writeBlob(serializePageDoc(doc));
  const author = { name: actor.name, email: authorEmail(actor.name, actor.email) };
  const subject = args.message?.trim() || args.defaultMessage;
  const file = new Map([[doc.id, blob]]);
  const commit = await session.commit('main', {
    changes: file, author, date, message: formatCommitMessage(subject, { pageId: doc.id, revisionId, action }),
  });
  let liveCommit: string | null = null;
  if (args.publish) {
    liveCommit = await session.commit('live', {
      changes: file, author, date, message: formatCommitMessage(`Publish: ${subject}`, { pageId: doc.id, revisionId, action: 'publish' }),
    });
  }
  return { revisionId, commit, blob, date, message: subject, liveCommit };
}
