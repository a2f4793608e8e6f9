import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { idempotencyClaim } from './idempotency.ts';

const body = { to_wallet_id: 'b', amount: '1.50', from_wallet_id: 'a', currency: 'USD', metadata: { z: [1, 'é', null], a: { y: true } } };
const claim = (request: { method?: string; url?: string; body: unknown }) =>
  idempotencyClaim({ method: 'POST', url: '/v1/transfers?x=1', headers: { 'idempotency-key': 'k-1' }, ...request } as unknown as FastifyRequest, 'scope');

test('a request fingerprint is the same in every version: keys stored before an upgrade still replay', () => {
  // Computed by the first implementation; stored keys compare against it.
  assert.equal(claim({ body }).fingerprint, '66e769873df6e14aee9b6ae418ade6d832e2550142b2b9802811a947cd082a85');
});

test('a fingerprint ignores key order and the query string, and covers method, path and every value', () => {
  const reordered = { metadata: { a: { y: true }, z: [1, 'é', null] }, currency: 'USD', from_wallet_id: 'a', amount: '1.50', to_wallet_id: 'b' };
  assert.equal(claim({ body: reordered, url: '/v1/transfers' }).fingerprint, claim({ body }).fingerprint);
  for (const other of [{ body: { ...body, amount: '1.5' } }, { body: { ...body, metadata: { z: [1, 'é'], a: { y: true } } } }, { body, url: '/v1/deposits' }, { body, method: 'PUT' }]) {
    assert.notEqual(claim(other).fingerprint, claim({ body }).fingerprint);
  }
});
