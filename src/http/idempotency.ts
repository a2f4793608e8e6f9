import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { KassaError } from '../ledger/errors.ts';
import type { IdempotencyClaim } from '../ledger/transfer.ts';

export const idempotencyKeyLengthMax = 255;

/** JSON with object keys sorted, so that key order does not change a request's fingerprint. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The caller-scoped key and request fingerprint that a money-moving POST must carry. */
export function idempotencyClaim(request: FastifyRequest, scope: string): IdempotencyClaim {
  const key = request.headers['idempotency-key'];
  if (key === undefined || key === '') {
    throw new KassaError('idempotency_key_required', 'send an Idempotency-Key header (1 to 255 characters) with every request that moves money');
  }
  if (typeof key !== 'string' || key.length > idempotencyKeyLengthMax) {
    throw new KassaError('validation_failed', 'Idempotency-Key must be one header of 1 to 255 characters', [
      { pointer: '/headers/idempotency-key', detail: 'must be 1 to 255 characters' },
    ]);
  }
  const path = request.url.split('?')[0];
  const fingerprint = createHash('sha256').update(`${request.method} ${path}\n${canonicalJson(request.body ?? null)}`).digest('hex');
  return { scope, key, fingerprint };
}

/**
 * Keys whose first request is still running in this process. A duplicate that arrives meanwhile
 * answers 409 at once; across processes the database makes it wait and then replay.
 */
export class InFlightKeys {
  readonly #keys = new Set<string>();

  enter(claim: IdempotencyClaim): boolean {
    const id = `${claim.scope}\u0000${claim.key}`;
    if (this.#keys.has(id)) return false;
    this.#keys.add(id);
    return true;
  }

  leave(claim: IdempotencyClaim): void {
    this.#keys.delete(`${claim.scope}\u0000${claim.key}`);
  }
}
