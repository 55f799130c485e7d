import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { Errors, isCmsError } from '../../errors.js';

export interface FormSpec {
  /** The text fields the form may have besides `file`. */
  fields: readonly string[];
  /** Largest file accepted (multipart stops reading past it). */
  fileBytes: number;
  /** "an image", "a document": for messages. */
  what: string;
}

const FIELD_BYTES = 4096;

/**
 * Reads a multipart upload form: exactly one file in `file`, and the named text fields in
 * any order. `onFile` consumes the file's stream as it arrives (it must read it whole or
 * throw). Anything unexpected is a 4xx naming the field.
 */
export async function readUploadForm<T>(req: FastifyRequest, spec: FormSpec, onFile: (file: MultipartFile) => Promise<T>): Promise<{ file: T; fields: Record<string, string> }> {
  if (!req.isMultipart()) {
    throw Errors.unsupportedMediaType([`${req.headers['content-type'] ?? 'none'} (send multipart/form-data with ${spec.what} in a "file" field)`]);
  }
  const fields: Record<string, string> = {};
  let file: { value: T } | null = null;
  const allowed = ['file', ...spec.fields].join(', ');
  try {
    const parts = req.parts({
      limits: { fileSize: spec.fileBytes, files: 1, fields: spec.fields.length, fieldSize: FIELD_BYTES, parts: spec.fields.length + 1 },
    });
    for await (const part of parts) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') {
          part.file.resume();
          throw Errors.badRequest([`the file must be sent in the "file" field, not "${part.fieldname}"`], { errors: [{ path: `/${part.fieldname}`, message: `is not a field of this form (fields: ${allowed})` }] });
        }
        file = { value: await onFile(part) };
        continue;
      }
      if (!spec.fields.includes(part.fieldname)) {
        throw Errors.badRequest([`unknown form field "${part.fieldname}"`], { errors: [{ path: `/${part.fieldname}`, message: `is not a field of this form (fields: ${allowed})` }] });
      }
      if (part.valueTruncated) throw Errors.badRequest([`the form field "${part.fieldname}" is too long`], { errors: [{ path: `/${part.fieldname}`, message: `is longer than ${FIELD_BYTES} bytes` }] });
      fields[part.fieldname] = String(part.value);
    }
  } catch (err) {
    throw formError(err, spec, allowed);
  }
  if (!file) throw Errors.badRequest([`the request has no file: send ${spec.what} in a multipart "file" field`], { errors: [{ path: '/file', message: 'is required' }] });
  return { file: file.value, fields };
}

function formError(err: unknown, spec: FormSpec, allowed: string): unknown {
  if (isCmsError(err)) return err;
  switch ((err as { code?: string }).code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return Errors.fileTooLarge([`${spec.fileBytes} bytes`, spec.what], { errors: [{ path: '/file', message: `is larger than ${spec.fileBytes} bytes` }] });
    case 'FST_FILES_LIMIT':
      return Errors.badRequest(['send one file per request'], { errors: [{ path: '/file', message: 'only one file may be sent' }] });
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return Errors.badRequest(['the form has too many fields'], { errors: [{ path: '', message: `fields: ${allowed}` }] });
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_MULTIPART_INVALID_CONTENT_TYPE':
      return Errors.badRequest(['the multipart body is malformed'], { errors: [{ path: '', message: (err as Error).message }] });
  }
  if (/Unexpected end of form|Malformed part header|Multipart: Boundary not found/i.test((err as Error)?.message ?? '')) {
    return Errors.badRequest([`the multipart body is malformed: ${(err as Error).message}`], { errors: [{ path: '', message: (err as Error).message }] });
  }
  return err;
}
