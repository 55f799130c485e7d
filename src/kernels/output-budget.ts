import type { NbOutput } from './kernel-gateway.js';

/** Counts a run's outputs against its limit; past it, one marker and nothing more. */
export class OutputBudget {
  private used = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.used;
  }

  /** The outputs to keep for `o` (empty once over the limit; the marker when crossing it). */
  take(o: NbOutput): NbOutput[] {
    if (this.truncated) return [];
    const size = Buffer.byteLength(JSON.stringify(o));
    if (this.used + size <= this.maxBytes) {
      this.used += size;
      return [o];
    }
    this.truncated = true;
    const kept: NbOutput[] = [];
    const marker: NbOutput = { output_type: 'stream', name: 'stderr', text: `\n[output truncated: this run produced more than ${formatLimit(this.maxBytes)} of output]\n` };
    // A long stream keeps what fits of its text beside the marker; other outputs are all or nothing.
    let room = this.maxBytes - this.used - Buffer.byteLength(JSON.stringify(marker));
    if (o.output_type === 'stream' && room > 100) {
      let text = o.text;
      while (text && Buffer.byteLength(JSON.stringify({ ...o, text })) > room) {
        text = text.slice(0, Math.floor(text.length * 0.9));
      }
      if (text) {
        kept.push({ ...o, text });
        room -= Buffer.byteLength(JSON.stringify(kept[0]));
        this.used += Buffer.byteLength(JSON.stringify(kept[0]));
      }
    }
    kept.push(marker);
    this.used += Buffer.byteLength(JSON.stringify(marker));
    return kept;
  }
}

function formatLimit(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
