import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { LEDGER_CLOSED } from '../app/public-ledger.js';
import { AppError, type ErrorReason } from '../domain/errors.js';
import { unavailable } from '../storage/database.js';

/** The only reason → HTTP status table. */
export const statusFor: Record<ErrorReason, number> = {
  invalid_request: 400,
  invalid_json: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  headers_too_large: 431,
  request_timeout: 408,
  invalid_token: 400,
  invalid_cursor: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  csrf_required: 403,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  policy_violation: 422,
  unknown_resource_type: 422,
  rate_limited: 429,
  revoked: 410,
  disabled: 403,
  expired: 410,
  max_views_reached: 410,
  password_required: 401,
  password_invalid: 401,
  auth_required: 401,
  code_invalid: 401,
  export_disabled: 403,
  records_disabled: 403,
  not_ready: 503,
  internal_error: 500,
};

export type ErrorBody = { error: string; reason: ErrorReason; field?: string; rule?: string; request_id?: string };

/** Converts whatever was thrown into an AppError (unknown errors become `internal_error`). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as FastifyError & { validation?: unknown[]; validationContext?: string };
  if (hasZodFastifySchemaValidationErrors(e)) {
    const issue = e.validation[0];
    // The provider reports where as a JSON pointer, and an unknown key's name in params.keys.
    const path = (issue?.instancePath ?? '').split('/').filter(Boolean);
    const keys = (issue?.params as { keys?: unknown } | undefined)?.keys;
    if (Array.isArray(keys) && keys.length > 0) path.push(String(keys[0]));
    // Named as docs/errors.md names them: `expires_at` (the body's), `query.limit`, `path.id`, `headers.x`.
    const context = e.validationContext === 'querystring' ? 'query' : e.validationContext === 'params' ? 'path' : e.validationContext;
    const where = context === 'body' ? '' : `${context}.`;
    const field = `${where}${path.join('.')}`.replace(/\.$/, '') || context || 'body';
    return new AppError('invalid_request', `Invalid ${field}: ${issue?.message ?? 'does not match the schema'}`, { field });
  }
  if (e?.validation) return new AppError('invalid_request', e.message);
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_json', 'The request body is not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_json', 'The request body is empty but declared application/json: send a JSON body, or no Content-Type when there is nothing to send');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'The request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'Send the body as application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('invalid_request', 'The Content-Length does not match the body');
    case 'FST_ERR_BAD_URL':
      return new AppError('invalid_request', 'The URL is malformed');
  }
  // A moment's unavailability (the database locked or out of reach, the instance closing), not a failure: try again.
  const down = e?.code === LEDGER_CLOSED ? 'busy' : unavailable(e);
  if (down === 'busy') return new AppError('not_ready', 'The database is busy; try again in a moment', { retryAfter: 1 });
  if (down === 'lost') return new AppError('not_ready', 'The connection to the database was lost; try again in a moment', { retryAfter: 1 });
  if (e?.name === 'SyntaxError' && e.statusCode === 400) return new AppError('invalid_json', 'The request body is not valid JSON');
  if (e?.statusCode === 429) return new AppError('rate_limited', 'Too many requests; slow down');
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new AppError('invalid_request', e.message);
  return new AppError('internal_error', 'Something went wrong on our side');
}

export function errorBody(err: AppError, requestId?: string): ErrorBody {
  const body: ErrorBody = { error: err.message, reason: err.reason };
  if (typeof err.details?.field === 'string') body.field = err.details.field;
  if (typeof err.details?.rule === 'string') body.rule = err.details.rule;
  if (err.reason === 'internal_error' && requestId) body.request_id = requestId;
  return body;
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (a request
 * line and headers past 16 KB, a malformed request, one too slow to arrive)
 * gets the same JSON as every other error, written on the socket, which is
 * then closed: Fastify's own answer had another shape.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket, headers: Readonly<Record<string, string>>): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const appErr =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new AppError('headers_too_large', 'The request line and headers are too large (16 KB at most)')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new AppError('request_timeout', 'The request took too long to arrive')
        : new AppError('invalid_request', 'This is not a well-formed HTTP request');
  const status = statusFor[appErr.reason];
  const body = JSON.stringify(errorBody(appErr));
  const head = Object.entries({ ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
  socket.destroy();
}

/**
 * What every error answer starts with, JSON or page: the error as an
 * AppError, logged when it is ours (a 500) or the database's (a 503), its
 * status, and Retry-After when trying again later helps.
 */
export function startErrorReply(err: unknown, request: FastifyRequest, reply: FastifyReply): AppError {
  const appErr = toAppError(err);
  if (appErr.reason === 'internal_error') {
    const cause = isResponseSerializationError(err) ? { issues: err.cause.issues } : {};
    request.log.error({ err, ...cause, requestId: request.id }, 'unhandled error');
  }
  if (appErr.reason === 'not_ready') request.log.warn({ err, requestId: request.id }, 'database unavailable');
  reply.code(statusFor[appErr.reason]);
  if ((appErr.reason === 'rate_limited' || appErr.reason === 'not_ready') && typeof appErr.details?.retryAfter === 'number') {
    reply.header('Retry-After', String(appErr.details.retryAfter));
  }
  return appErr;
}

/** A page renderer may take over errors on HTML routes; everything else answers JSON. */
export type ErrorRenderer = (err: AppError, request: FastifyRequest, reply: FastifyReply) => boolean;

export function installErrorHandler(app: FastifyInstance, renderers: ErrorRenderer[] = []): void {
  app.setErrorHandler((err, request, reply) => {
    const appErr = startErrorReply(err, request, reply);
    for (const render of renderers) if (render(appErr, request, reply)) return reply;
    return reply.send(errorBody(appErr, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    const appErr = new AppError('not_found', "There is nothing at this address");
    reply.code(404);
    for (const render of renderers) if (render(appErr, request, reply)) return reply;
    return reply.send(errorBody(appErr));
  });
}
