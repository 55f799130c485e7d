import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { ErrorObject } from 'ajv';
import { ajvErrorsToFieldErrors } from '../../blocks/ajv.js';
import { CmsError, Errors } from '../../errors.js';

/**
 * The one place error bodies are built: `{statusCode, error, message, code}` plus
 * `errors: [{path, message}]` for validation failures. 5xx bodies say nothing internal.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | CmsError, req, reply) => {
    const cms = toCmsError(err);
    if (cms.statusCode >= 500) req.log.error({ err }, 'request failed');
    const body: Record<string, unknown> = {
      statusCode: cms.statusCode,
      error: STATUS_CODES[cms.statusCode] ?? 'Error',
      message: cms.message,
      code: cms.code,
    };
    if (cms.errors) body.errors = cms.errors;
    if (cms.extra) Object.assign(body, cms.extra);
    if (cms.headers) reply.headers(cms.headers);
    reply.code(cms.statusCode).header('cache-control', 'no-store').send(body);
  });

  app.setNotFoundHandler((req, reply) => {
    const err = Errors.routeNotFound([req.method, req.url.split('?')[0]]);
    reply.code(404).send({ statusCode: 404, error: 'Not Found', message: err.message, code: err.code });
  });
}

function toCmsError(err: FastifyError | CmsError): CmsError {
  if (err instanceof CmsError) return err;
  const fe = err as FastifyError & { validation?: unknown[]; validationContext?: string };
  if (fe.validation) {
    const where = fe.validationContext === 'body' ? '' : `/${fe.validationContext ?? ''}`;
    const errors = ajvErrorsToFieldErrors(fe.validation as ErrorObject[], where);
    return Errors.validation([errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')], { errors });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return Errors.unsupportedMediaType([String((fe as { message: string }).message.split(': ').pop())]);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return Errors.payloadTooLarge();
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return Errors.badRequest(['the request body is empty; send a JSON object']);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return Errors.badRequest([`the request body is not valid JSON: ${fe.message}`]);
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Body parse errors (malformed JSON) and the like: the client's fault, and safe to say.
    const message = err instanceof SyntaxError || /JSON/.test(fe.message) ? `the request body is not valid JSON: ${fe.message}` : fe.message;
    return new CmsError(fe.code ?? 'CMS_ERR_API_BAD_REQUEST', fe.statusCode, message);
  }
  return Errors.internal();
}
