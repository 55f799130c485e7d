import * as fs from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import git from 'isomorphic-git';
import { createGitFs, syncDir } from './git-fs.js';
import { encodeCommit, encodeObject, encodeTree, type ObjectType, type TreeEntry } from './git-objects.js';

export const PAGES_DIR = 'pages';
/**
 * Pages live in 100 folders by the last two digits of their id (`pages/07/1207.json`),
 * so a save rewrites two small trees instead of one listing of every page: with 10,000
 * pages a flat `pages/` tree is 360 KB per commit, these are about 7 KB.
 */
export const pageShard = (id: number) => String(id % 100).padStart(2, '0');
export const pageFile = (id: number) => `${PAGES_DIR}/${pageShard(id)}/${id}.json`;

export interface GitAuthor {
  name: string;
  email: string;
}

export interface CommitInput {
  /** The commit the new one follows; null for a branch's first commit. */
  parent: string | null;
  /** Page id → the blob of its new file, or null to delete the file. */
  changes: Map<number, string | null>;
  author: GitAuthor;
  message: string;
  date: Date;
}

/** One pages/<shard>/ folder of a commit: its tree id and its files (name → blob id). */
interface Shard {
  oid: string;
  files: ReadonlyMap<string, string>;
}
type Snapshot = ReadonlyMap<string, Shard>;

export class RefLockError extends Error {
  override name = 'RefLockError';
}

const EMPTY: Snapshot = new Map();

/**
 * A bare git repository written without a working tree. Every page is one file
 * (pageFile); a commit rewrites the folders it touches from the parent's snapshot
 * (cached per commit). Moving a branch takes git's own `<ref>.lock` file, like git.
 */
export class GitRepo {
  readonly gitdir: string;
  private readonly fs: ReturnType<typeof createGitFs>;
  private readonly fsync: boolean;
  /** The pages/ folders of recently written or read commits. */
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly cacheSize = 8;
  private cache: object = {};
  private cacheStamp: string | null = null;

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
    const { blob } = await this.read((cache) => git.readBlob({ fs: this.fs, gitdir: this.gitdir, oid, cache }));
    return Buffer.from(blob).toString('utf8');
  }

  /**
   * Runs a read with isomorphic-git's pack cache, shared by all reads (without it every
   * read of a packed object loads and checksums the whole pack again). The cache is
   * dropped when the set of packs changes, and a read that failed because a repack
   * replaced the pack it was reading is tried again on the new packs.
   */
  private async read<T>(fn: (cache: object) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const stamp = this.packStamp();
      if (stamp !== this.cacheStamp) {
        this.cacheStamp = stamp;
        this.cache = {};
      }
      try {
        return await fn(this.cache);
      } catch (err) {
        if (attempt >= 3 || this.packStamp() === stamp) throw err;
        await new Promise((r) => setTimeout(r, 5 * (attempt + 1)));
      }
    }
  }

  /** The names of the packs: changes whenever a repack adds or removes one. */
  private packStamp(): string {
    try {
      return fs.readdirSync(join(this.gitdir, 'objects', 'pack')).filter((f) => f.endsWith('.idx')).sort().join(',');
    } catch {
      return '';
    }
  }

  async hasObject(oid: string): Promise<boolean> {
    try {
      await this.read((cache) => git.readObject({ fs: this.fs, gitdir: this.gitdir, oid, format: 'deflated', cache }));
      return true;
    } catch {
      return false;
    }
  }

  /** The pages/ folders of a commit. */
  private async snapshot(commit: string | null): Promise<Snapshot> {
    if (commit === null) return EMPTY;
    const cached = this.snapshots.get(commit);
    if (cached) return cached;
    const read = (oid: string) => this.read((cache) => git.readTree({ fs: this.fs, gitdir: this.gitdir, oid, cache }));
    const { commit: c } = await this.read((cache) => git.readCommit({ fs: this.fs, gitdir: this.gitdir, oid: commit, cache }));
    const root = await read(c.tree);
    const dir = root.tree.find((e) => e.path === PAGES_DIR && e.type === 'tree');
    const shards = new Map<string, Shard>();
    for (const entry of dir ? (await read(dir.oid)).tree : []) {
      if (entry.type !== 'tree') continue;
      const files = new Map((await read(entry.oid)).tree.filter((e) => e.type === 'blob').map((e) => [e.path, e.oid]));
      shards.set(entry.path, { oid: entry.oid, files });
    }
    this.remember(commit, shards);
    return shards;
  }

  /** The blob of a page's file at a commit; null when the page is not there. */
  async pageBlobAt(commit: string | null, id: number): Promise<string | null> {
    return (await this.snapshot(commit)).get(pageShard(id))?.files.get(`${id}.json`) ?? null;
  }

  /** Writes the trees and the commit object; no ref moves. Returns the commit id. */
  async writeCommit(input: CommitInput): Promise<string> {
    const shards = new Map(await this.snapshot(input.parent));
    const touched = new Map<string, Map<string, string>>();
    for (const [id, blob] of input.changes) {
      const name = pageShard(id);
      let files = touched.get(name);
      if (!files) touched.set(name, (files = new Map(shards.get(name)?.files ?? [])));
      if (blob === null) files.delete(`${id}.json`);
      else files.set(`${id}.json`, blob);
    }
    for (const [name, files] of touched) {
      if (files.size === 0) {
        shards.delete(name);
        continue;
      }
      const entries: TreeEntry[] = [...files].map(([file, oid]) => ({ mode: '100644', name: file, oid }));
      shards.set(name, { oid: await this.writeObject('tree', encodeTree(entries)), files });
    }
    const pagesTree: TreeEntry[] = [...shards].map(([name, shard]) => ({ mode: '040000', name, oid: shard.oid }));
    const rootTree: TreeEntry[] = pagesTree.length
      ? [{ mode: '040000', name: PAGES_DIR, oid: await this.writeObject('tree', encodeTree(pagesTree)) }]
      : [];
    const tree = await this.writeObject('tree', encodeTree(rootTree));
    const stamp = { ...input.author, date: input.date };
    const oid = await this.writeObject('commit', encodeCommit({
      tree, parents: input.parent ? [input.parent] : [], author: stamp, committer: stamp, message: input.message,
    }));
    this.remember(oid, shards);
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

  private remember(commit: string, snapshot: Snapshot) {
    this.snapshots.set(commit, snapshot);
    if (this.snapshots.size > this.cacheSize) {
      const oldest = this.snapshots.keys().next().value;
      if (oldest !== undefined) this.snapshots.delete(oldest);
    }
  }
}
