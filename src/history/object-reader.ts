import * as fs from 'node:fs';
import git from 'isomorphic-git';
import { pageFile } from './git-repo.js';
import type { Branch } from './revision-store.js';

export interface CommitInfo {
  tree: string;
  parents: string[];
  message: string;
}

export interface Walk {
  commits: Map<string, CommitInfo>;
  /** The first commit that could not be read, when the history is broken. */
  brokenAt: { oid: string; why: string } | null;
}

/**
 * Reads objects through isomorphic-git (loose or packed) without writing anything. One
 * cache for the whole run: without it isomorphic-git reloads and re-hashes a whole pack
 * for every object it reads from it.
 */
export class ObjectReader {
  private readonly cache = {};
  private readonly trees = new Map<string, { path: string; oid: string; type: string }[]>();

  constructor(private readonly gitdir: string) {}

  private get base() {
    return { fs, gitdir: this.gitdir, cache: this.cache };
  }

  async resolveRef(branch: Branch): Promise<string | null> {
    try {
      return await git.resolveRef({ ...this.base, ref: `refs/heads/${branch}` });
    } catch {
      return null;
    }
  }

  /** The commit, 'missing', or the type of the object when it is not a commit. */
  async readCommit(oid: string): Promise<CommitInfo | 'missing' | string> {
    let obj;
    try {
      obj = await git.readObject({ ...this.base, oid });
    } catch {
      return 'missing';
    }
    if (obj.type !== 'commit') return obj.type;
    const c = obj.object as { tree: string; parent: string[]; message: string };
    return { tree: c.tree, parents: c.parent, message: c.message };
  }

  /** Every commit reachable from `head`. */
  async walk(head: string | null): Promise<Walk> {
    const commits = new Map<string, CommitInfo>();
    let brokenAt: Walk['brokenAt'] = null;
    const todo = head ? [head] : [];
    while (todo.length) {
      const oid = todo.pop()!;
      if (commits.has(oid)) continue;
      const c = await this.readCommit(oid);
      if (typeof c === 'string') {
        brokenAt ??= { oid, why: c === 'missing' ? 'missing' : `a ${c}, not a commit` };
        continue;
      }
      commits.set(oid, c);
      todo.push(...c.parents);
    }
    return { commits, brokenAt };
  }

  /** Whether `ancestor` is `oid` or one of its ancestors. */
  async isAncestor(ancestor: string, oid: string): Promise<boolean> {
    return (await this.walk(oid)).commits.has(ancestor);
  }

  private async tree(oid: string) {
    let entries = this.trees.get(oid);
    if (!entries) {
      entries = (await git.readTree({ ...this.base, oid })).tree;
      if (this.trees.size > 20_000) this.trees.clear();
      this.trees.set(oid, entries);
    }
    return entries;
  }

  /** The blob of a page's file in a tree; null when the file is not there (or the tree cannot be read). */
  async fileAt(tree: string, pageId: number): Promise<string | null> {
    let oid = tree;
    try {
      for (const name of pageFile(pageId).split('/')) {
        const entry = (await this.tree(oid)).find((e) => e.path === name);
        if (!entry) return null;
        oid = entry.oid;
      }
    } catch {
      return null;
    }
    return oid;
  }

  /** path → blob of every page file in a commit; `stray` hears of files outside pages/<NN>/<id>.json. */
  async pageFiles(commit: string | null, stray: (path: string) => void): Promise<Map<string, string>> {
    const files = new Map<string, string>();
    if (!commit) return files;
    const c = await this.readCommit(commit);
    if (typeof c === 'string') return files; // reported by the walk
    const visit = async (tree: string, prefix: string) => {
      for (const e of await this.tree(tree)) {
        const path = prefix ? `${prefix}/${e.path}` : e.path;
        if (e.type === 'tree') await visit(e.oid, path);
        else files.set(path, e.oid);
      }
    };
    await visit(c.tree, '');
    for (const path of [...files.keys()]) {
      const m = /^(\d+)\.json$/.exec(path.split('/').pop() ?? '');
      if (!m || path !== pageFile(Number(m[1]))) {
        stray(path);
        files.delete(path);
      }
    }
    return files;
  }

  async readBlob(oid: string): Promise<string> {
    const { blob } = await git.readBlob({ ...this.base, oid });
    return Buffer.from(blob).toString('utf8');
  }
}
