/** The trailers that let the database be rebuilt from git (DESIGN.md §3). */
export interface CommitTrailers {
  pageId: number;
  revisionId: number | null;
  action: string;
}

export function formatCommitMessage(subject: string, trailers: CommitTrailers): string {
  const firstLine = subject.replace(/\s+/g, ' ').trim() || `${trailers.action} page ${trailers.pageId}`;
  const lines = [`Page-Id: ${trailers.pageId}`];
  if (trailers.revisionId !== null) lines.push(`Revision-Id: ${trailers.revisionId}`);
  lines.push(`Action: ${trailers.action}`);
  return `${firstLine}\n\n${lines.join('\n')}\n`;
}

export function parseCommitTrailers(message: string): Partial<CommitTrailers> {
  const out: Partial<CommitTrailers> = {};
  for (const line of message.split('\n')) {
    const m = /^(Page-Id|Revision-Id|Action):\s*(.+)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === 'Page-Id') out.pageId = Number(m[2]);
    else if (m[1] === 'Revision-Id') out.revisionId = Number(m[2]);
    else out.action = m[2];
  }
  return out;
}

/** Git wants an email; tokens may not have one. */
export function authorEmail(name: string, email: string | null): string {
  if (email) return email;
  const local = name.normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '.').replace(/^\.+|\.+$/g, '') || 'editor';
  return `${local}@lectern.invalid`;
}
