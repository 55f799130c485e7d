import type { MediaConfig } from '../config.js';
import { LocalStorage } from './storage/local-storage.js';
import { S3Storage } from './storage/s3-storage.js';
import type { Storage } from './storage/storage.js';

/** The storage adapter MEDIA_STORAGE names. */
export function selectStorage(config: MediaConfig): Storage {
  if (config.storage === 'local') return new LocalStorage(config.dir);
  const { s3 } = config;
  return new S3Storage({
    bucket: s3.bucket!,
    region: s3.region,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    forcePathStyle: s3.forcePathStyle,
    ...(s3.accessKeyId && s3.secretAccessKey ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } } : {}),
    prefix: s3.prefix,
    ...(config.publicUrl ? { publicBaseUrl: config.publicUrl } : {}),
  });
}
