import { hash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { KassaError } from '../ledger/errors.ts';
import type { IdempotencyClaim } from '../ledger/transfer.ts';

export const idempotencyKeyLengthMax = 255;

/** JSON with object keys sorted, so that key order does not change a request's fingerprint. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    let text = '';
    for (const key of Object.keys(object).sort()) text += `${text === '' ? '' : ','}${JSON.stringify(key)}:${canonicalJson(object[key])}`;
    return `{${text}}`;
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
  const queryAt = request.url.indexOf('?');
  const path = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
  const fingerprint = hash('sha256', `${request.method} ${path}\n${canonicalJson(request.body ?? null)}`);
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
