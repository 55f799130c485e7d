import { execFile } from 'node:child_process';

/**
 * The git binary, for what isomorphic-git does not do: `git fsck` and `git repack`.
 * The server itself never needs it.
 */

export class GitNotInstalledError extends Error {
  override name = 'GitNotInstalledError';
}

/** A git command that failed: its arguments, exit status and what it said. */
export class GitCommandError extends Error {
  override name = 'GitCommandError';
}

export interface GitOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the git binary on a bare repository; a non-zero exit is returned, not thrown. */
export function runGit(gitdir: string, args: string[]): Promise<GitOutput> {
  return new Promise((resolve, reject) => {
    execFile('git', ['--git-dir', gitdir, ...args], { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new GitNotInstalledError('git is not installed (no git binary on PATH)'));
        return;
      }
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}
