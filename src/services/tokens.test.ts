import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import type { Pool } from '../db/pool.ts';
import { Tokens, signAccessToken } from './tokens.ts';

const secret = 'unit-test-secret-unit-test-secret-unit-test';
const key = new TextEncoder().encode(secret);
const noDatabase = {} as Pool; // verification never touches the database

test('a verified token is served from the cache until it expires, then refused', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
  const tokens = new Tokens(secret, noDatabase);
  const token = await signAccessToken(key, { userId: 'user-1', role: 'customer' });
  const first = await tokens.verifyAccessToken(token);
  assert.deepEqual({ userId: first.userId, role: first.role }, { userId: 'user-1', role: 'customer' });
  assert.ok(first.tokenExpiresAtMs! > Date.now() && first.tokenExpiresAtMs! <= Date.now() + 15 * 60 * 1000, 'the token expiry travels with the caller');
  assert.equal(await tokens.verifyAccessToken(token), first, 'the second check is served from the cache');
  t.mock.timers.tick(16 * 60 * 1000);
  await assert.rejects(tokens.verifyAccessToken(token), (error: { code?: string }) => error.code === 'token_expired');
});

test('a token that fails verification is never cached', async () => {
  const tokens = new Tokens(secret, noDatabase);
  const forged = await new SignJWT({ role: 'admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('user-1')
    .setIssuer('kassa')
    .setAudience('kassa-api')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
  for (let attempt = 0; attempt < 2; attempt++) {
    await assert.rejects(tokens.verifyAccessToken(forged), (error: { code?: string }) => error.code === 'unauthenticated');
  }
});
