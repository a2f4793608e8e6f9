// The one error catalogue: every stable code, its HTTP status and a human title.
// Handlers never choose a status themselves; they name a code.

export const errorCatalogue = {
  validation_failed: { status: 400, title: 'Request validation failed' },
  invalid_amount: { status: 400, title: 'Invalid amount' },
  idempotency_key_required: { status: 400, title: 'Idempotency-Key header required' },
  invalid_cursor: { status: 400, title: 'Invalid cursor' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  invalid_credentials: { status: 401, title: 'Invalid username or password' },
  token_expired: { status: 401, title: 'Token expired' },
  token_revoked: { status: 401, title: 'Token revoked' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  user_not_found: { status: 404, title: 'User not found' },
  wallet_not_found: { status: 404, title: 'Wallet not found' },
  transfer_not_found: { status: 404, title: 'Transfer not found' },
  currency_not_found: { status: 404, title: 'Currency not found' },
  username_taken: { status: 409, title: 'Username taken' },
  wallet_exists: { status: 409, title: 'Wallet already exists' },
  idempotency_key_in_use: { status: 409, title: 'Idempotency key in use' },
  transfer_not_pending: { status: 409, title: 'Transfer is not pending' },
  transfer_not_posted: { status: 409, title: 'Transfer is not posted' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  insufficient_funds: { status: 422, title: 'Insufficient funds' },
  currency_mismatch: { status: 422, title: 'Currency mismatch' },
  same_wallet: { status: 422, title: 'Source and destination are the same wallet' },
  amount_exceeds_hold: { status: 422, title: 'Amount exceeds hold' },
  hold_expired: { status: 422, title: 'Hold expired' },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused with a different request' },
  limit_exceeded: { status: 422, title: 'Limit exceeded' },
  batch_aborted: { status: 422, title: 'Batch aborted: another transfer of this atomic batch failed' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorCatalogue, code);
}

export interface FieldError {
  pointer: string;
  detail: string;
}

/** A domain outcome that is not success; thrown only across layers, mapped to HTTP once. */
export class KassaError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;

  constructor(code: ErrorCode, detail?: string, errors?: FieldError[]) {
    super(detail ?? errorCatalogue[code].title);
    this.name = 'KassaError';
    this.code = code;
    this.errors = errors;
  }

  get status(): number {
    return errorCatalogue[this.code].status;
  }
}
