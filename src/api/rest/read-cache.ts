import type { ContentVersion } from '../../content/content-version.js';

export interface CachedResponse {
  status: number;
  body: string;
  etag: string;
  headers: Record<string, string>;
}

/**
 * Finished public read responses, keyed by origin and URL. The whole cache is dropped
 * when content changes anywhere (ContentVersion); a response computed while a change
 * landed is not stored, so nothing older than the last change heard of is ever served.
 */
export class ReadCache {
  private readonly entries = new Map<string, CachedResponse>();

  constructor(private readonly version: ContentVersion, private readonly maxEntries: number) {
    version.onChange(() => this.entries.clear());
  }

  get enabled(): boolean {
    return this.maxEntries > 0;
  }

  get(key: string): CachedResponse | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      // Least recently used goes first: move the hit to the end.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Stores `value` unless content changed since `generation` (when the request began). */
  set(key: string, value: CachedResponse, generation: number): void {
    if (!this.enabled || generation !== this.version.generation) return;
    this.entries.set(key, value);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
