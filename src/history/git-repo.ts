import * as fs from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import git from 'isomorphic-git';
import { createGitFs, syncDir } from './git-fs.js';
import { encodeCommit, encodeObject, encodeTree, type ObjectType, type TreeEntry } from './git-objects.js';

export const PAGES_DIR = 'pages';
export const pageFile = (id: number) => `${PAGES_DIR}/${id}.json`;

export interface GitAuthor {
  name: string;
  email: string;
}

export interface CommitInput {
  /** The commit the new one follows; null for a branch's first commit. */
  parent: string | null;
  /** File name inside pages/ → new blob id, or null to delete the file. */
  changes: Map<string, string | null>;
  author: GitAuthor;
  message: string;
  date: Date;
}

export class RefLockError extends Error {
  override name = 'RefLockError';
}

const EMPTY_ENTRIES: ReadonlyMap<string, string> = new Map();

/**
 * A bare git repository written without a working tree. Every page is one file in
 * `pages/`; a commit rewrites the `pages` tree from the parent's entries (cached per
 * commit) plus the changes. Moving a branch takes git's own `<ref>.lock` file, like git.
 */
export class GitRepo {
  readonly gitdir: string;
  private readonly fs: ReturnType<typeof createGitFs>;
  private readonly fsync: boolean;
  /** pages/ entries (file name → blob id) of recently written or read commits. */
  private readonly entriesCache = new Map<string, ReadonlyMap<string, string>>();
  private readonly cacheSize = 8;

  constructor(gitdir: string, opts: { fsync?: boolean } = {}) {
    this.gitdir = gitdir;
    this.fsync = opts.fsync ?? false;
    this.fs = createGitFs({ fsync: this.fsync });
  }

  async init(): Promise<void> {
    if (fs.existsSync(join(this.gitdir, 'HEAD'))) return;
    await mkdir(this.gitdir, { recursive: true });
    await git.init({ fs: this.fs, gitdir: this.gitdir, bare: true, defaultBranch: 'main' });
    // Readers clone over dumb HTTP later; git needs objects/info to exist for that.
    await mkdir(join(this.gitdir, 'objects', 'info'), { recursive: true });
    await mkdir(join(this.gitdir, 'refs', 'heads'), { recursive: true });
  }

  async writeBlob(content: string): Promise<string> {
    return this.writeObject('blob', Buffer.from(content, 'utf8'));
  }

  /** Stores an object through isomorphic-git's object store, encoded natively (git-objects.ts). */
  private async writeObject(type: ObjectType, content: Buffer): Promise<string> {
    const { oid, deflated } = encodeObject(type, content);
    await git.writeObject({ fs: this.fs, gitdir: this.gitdir, type, object: deflated, format: 'deflated', oid });
    return oid;
  }

  async readBlob(oid: string): Promise<string> {
    const { blob } = await git.readBlob({ fs: this.fs, gitdir: this.gitdir, oid });
    return Buffer.from(blob).toString('utf8');
  }

  async hasObject(oid: string): Promise<boolean> {
    try {
      await git.readObject({ fs: this.fs, gitdir: this.gitdir, oid, format: 'deflated' });
      return true;
    } catch {
      return false;
    }
  }

  /** The pages/ entries of a commit (file name → blob id). */
  async entries(commit: string | null): Promise<ReadonlyMap<string, string>> {
    if (commit === null) return EMPTY_ENTRIES;
    const cached = this.entriesCache.get(commit);
    if (cached) return cached;
    const { commit: c } = await git.readCommit({ fs: this.fs, gitdir: this.gitdir, oid: commit });
    const root = await git.readTree({ fs: this.fs, gitdir: this.gitdir, oid: c.tree });
    const dir = root.tree.find((e) => e.path === PAGES_DIR && e.type === 'tree');
    const entries = new Map<string, string>();
    if (dir) {
      const pagesTree = await git.readTree({ fs: this.fs, gitdir: this.gitdir, oid: dir.oid });
      for (const e of pagesTree.tree) if (e.type === 'blob') entries.set(e.path, e.oid);
    }
    this.remember(commit, entries);
    return entries;
  }

  /** Reads one page file at a commit; null when the page is not there. */
  async readFileAt(commit: string | null, file: string): Promise<string | null> {
    const name = file.startsWith(`${PAGES_DIR}/`) ? file.slice(PAGES_DIR.length + 1) : file;
    const oid = (await this.entries(commit)).get(name);
    return oid ? this.readBlob(oid) : null;
  }

  /** Writes the trees and the commit object; no ref moves. Returns the commit id. */
  async writeCommit(input: CommitInput): Promise<string> {
    const entries = new Map(await this.entries(input.parent));
    for (const [name, oid] of input.changes) {
      if (oid === null) entries.delete(name);
      else entries.set(name, oid);
    }
    const pagesTree: TreeEntry[] = [...entries].map(([name, oid]) => ({ mode: '100644', name, oid }));
    const rootTree: TreeEntry[] = pagesTree.length
      ? [{ mode: '040000', name: PAGES_DIR, oid: await this.writeObject('tree', encodeTree(pagesTree)) }]
      : [];
    const tree = await this.writeObject('tree', encodeTree(rootTree));
    const stamp = { ...input.author, date: input.date };
    const oid = await this.writeObject('commit', encodeCommit({
      tree, parents: input.parent ? [input.parent] : [], author: stamp, committer: stamp, message: input.message,
    }));
    this.remember(oid, entries);
    return oid;
  }

  /** The commit a branch points at in the repository; null if the branch does not exist. */
  async readRef(branch: string): Promise<string | null> {
    try {
      return await git.resolveRef({ fs: this.fs, gitdir: this.gitdir, ref: `refs/heads/${branch}` });
    } catch {
      return null;
    }
  }

  /**
   * Points `branch` at `oid` the way git does: create `<ref>.lock` exclusively, write,
   * rename over the ref. Callers already hold Lectern's writer lock, so a lock file that
   * stays is one a killed process left (or a person running git): it is waited for, then
   * broken once it is older than `staleMs`.
   */
  async moveRef(branch: string, oid: string, staleMs = 10_000): Promise<void> {
    const ref = join(this.gitdir, 'refs', 'heads', branch);
    const lock = `${ref}.lock`;
    fs.mkdirSync(dirname(ref), { recursive: true });
    for (let attempt = 0; ; attempt++) {
      let fd: number;
      try {
        fd = fs.openSync(lock, 'wx');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        let age = 0;
        try { age = Date.now() - fs.statSync(lock).mtimeMs; } catch { /* released meanwhile */ }
        if (age > staleMs) {
          try { fs.unlinkSync(lock); } catch { /* someone else broke it */ }
        } else if (attempt > 200) {
          throw new RefLockError(`${lock} is held by another writer`);
        } else {
          await new Promise((r) => setTimeout(r, 25));
        }
        continue;
      }
      try {
        fs.writeFileSync(fd, `${oid}\n`);
        if (this.fsync) fs.fsyncSync(fd);
      } catch (err) {
        fs.closeSync(fd);
        try { fs.unlinkSync(lock); } catch { /* gone */ }
        throw err;
      }
      fs.closeSync(fd);
      fs.renameSync(lock, ref);
      if (this.fsync) syncDir(dirname(ref));
      return;
    }
  }

  /** Loose refs only; packed refs are read by resolveRef. Used by health checks. */
  async ping(): Promise<void> {
    await readFile(join(this.gitdir, 'HEAD'), 'utf8');
  }

  private remember(commit: string, entries: ReadonlyMap<string, string>) {
    this.entriesCache.set(commit, entries);
    if (this.entriesCache.size > this.cacheSize) {
      const oldest = this.entriesCache.keys().next().value;
      if (oldest !== undefined) this.entriesCache.delete(oldest);
    }
  }
}
