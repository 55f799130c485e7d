import { randomUUID } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isBlockId = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);

/** A new block id: a UUID v4, as Wagtail gives stream children. */
export const newBlockId = (): string => randomUUID();
