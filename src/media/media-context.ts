import type { MediaConfig } from '../config.js';
import type { Db } from '../db/client.js';
import type { Storage } from './storage/storage.js';

/** Who uploads: the token's user. */
export interface Uploader {
  tokenId: number | null;
}

/** What media operations need; built once by app.ts. */
export interface MediaContext {
  db: Db;
  storage: Storage;
  config: MediaConfig;
  /**
   * Runs `fn` in a transaction and, with it, tells public readers' caches in every process
   * that something they show changed (a deleted image disappears from the pages using it).
   */
  publicChange<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  log(err: unknown, msg: string): void;
}
