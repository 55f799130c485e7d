import { Ajv, type ErrorObject } from 'ajv';
import formatsModule from 'ajv-formats';

// ajv-formats is CommonJS with a `default` export; under NodeNext its types see the namespace.
const addFormats = ((formatsModule as unknown as { default?: unknown }).default ?? formatsModule) as unknown as
  (ajv: Ajv) => Ajv;

/**
 * The one ajv configuration for content: every error (not just the first), defaults
 * filled in (jupyter's `kernel`), unknown keywords rejected except the annotations we use.
 */
export function createAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: true, useDefaults: true, discriminator: true, allowUnionTypes: true,
    strictSchema: true, strictNumbers: true, strictTuples: true, strictTypes: false, strictRequired: false,
  });
  addFormats(ajv);
  return ajv;
}

/** A JSON pointer segment, escaped (RFC 6901). */
export function pointerSegment(key: string | number): string {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function joinPointer(base: string, ...keys: (string | number)[]): string {
  return base + keys.map((k) => `/${pointerSegment(k)}`).join('');
}

/**
 * Turns ajv errors into {path, message} with the path pointing at the offending place
 * itself: a missing or unexpected property is named in the path, not only the message.
 */
export function ajvErrorsToFieldErrors(errors: ErrorObject[] | null | undefined, base: string, prefix = '') {
  const out: { path: string; message: string }[] = [];
  for (const e of errors ?? []) {
    // oneOf/anyOf summary errors repeat what their branches already said.
    if (e.keyword === 'if') continue;
    let path = base + e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') path = joinPointer(path, e.params.missingProperty as string);
    if (e.keyword === 'additionalProperties') {
      path = joinPointer(path, e.params.additionalProperty as string);
      message = 'is not an allowed property';
    }
    if (e.keyword === 'enum') message = `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    out.push({ path, message: prefix + message });
  }
  return out;
}
