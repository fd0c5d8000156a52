/**
 * The closed set of reasons Porthole answers with. Each maps to exactly one
 * HTTP status in `http/error-handler.ts`; `docs/errors.md` explains each.
 */
export const errorReasons = [
  // request shape
  'invalid_request',
  'invalid_json',
  'payload_too_large',
  'unsupported_media_type',
  'headers_too_large',
  'request_timeout',
  'invalid_token',
  'invalid_cursor',
  // identity
  'unauthenticated',
  'invalid_credentials',
  'csrf_required',
  'forbidden',
  // objects
  'not_found',
  'conflict',
  'policy_violation',
  'unknown_resource_type',
  // link access (DESIGN §4)
  'rate_limited',
  'revoked',
  'disabled',
  'expired',
  'max_views_reached',
  'password_required',
  'password_invalid',
  'auth_required',
  'code_invalid',
  'export_disabled',
  'records_disabled',
  // operations
  'not_ready',
  'internal_error',
] as const;

export type ErrorReason = (typeof errorReasons)[number];

/** The one error type of the application: a reason from the closed set and a human message. */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly reason: ErrorReason,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** Shorthand for the most common refusal. */
export const notFound = (what: string): AppError => new AppError('not_found', `${what} not found`);
