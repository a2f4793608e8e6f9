import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { verifyHs256 } from './jwt.ts';

const key = new TextEncoder().encode('unit-test-secret-unit-test-secret-unit-test');
const now = Math.floor(Date.now() / 1_000);
const expect = { issuer: 'kassa', audience: 'kassa-api', nowSeconds: now };

function token(options: { alg?: string; iss?: string; aud?: string | string[]; exp?: number; nbf?: number; crit?: boolean; signWith?: Uint8Array } = {}): Promise<string> {
  const jwt = new SignJWT({ role: 'customer' })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', ...(options.crit ? { crit: ['b64'], b64: true } : {}) })
    .setSubject('user-1')
    .setIssuer(options.iss ?? 'kassa')
    .setAudience(options.aud ?? 'kassa-api')
    .setExpirationTime(options.exp ?? now + 60);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(options.signWith ?? key);
}

const reason = (result: ReturnType<typeof verifyHs256>) => (result.ok ? 'ok' : result.reason);

test('a token signed by jose with the same key verifies, with its claims', async () => {
  const result = verifyHs256(await token({ aud: ['other', 'kassa-api'] }), key, expect);
  assert.ok(result.ok);
  assert.equal(result.claims.sub, 'user-1');
  assert.equal(result.claims.role, 'customer');
});

test('a changed payload, another key, or another algorithm is invalid', async () => {
  const good = await token();
  const [header, , signature] = good.split('.');
  const admin = Buffer.from(JSON.stringify({ role: 'admin', sub: 'user-1', iss: 'kassa', aud: 'kassa-api', exp: now + 60 })).toString('base64url');
  assert.equal(reason(verifyHs256(`${header}.${admin}.${signature}`, key, expect)), 'invalid');
  assert.equal(reason(verifyHs256(await token({ signWith: new TextEncoder().encode('x'.repeat(43)) }), key, expect)), 'invalid');
  assert.equal(reason(verifyHs256(await token({ alg: 'HS512' }), key, expect)), 'invalid');
  const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${good.split('.')[1]}.`;
  assert.equal(reason(verifyHs256(none, key, expect)), 'invalid');
  assert.equal(reason(verifyHs256(await token({ crit: true }), key, expect)), 'invalid', 'an unknown critical header is refused');
  for (const garbage of ['', 'a.b', 'a.b.c.d', '..', `${good}x`, good.replace('.', '.=')]) {
    assert.equal(reason(verifyHs256(garbage, key, expect)), 'invalid', garbage);
  }
});

test('issuer, audience, expiry and not-before are checked', async () => {
  assert.equal(reason(verifyHs256(await token({ iss: 'someone' }), key, expect)), 'invalid');
  assert.equal(reason(verifyHs256(await token({ aud: 'other' }), key, expect)), 'invalid');
  assert.equal(reason(verifyHs256(await token({ exp: now - 1 }), key, expect)), 'expired');
  assert.equal(reason(verifyHs256(await token({ exp: now }), key, expect)), 'expired');
  assert.equal(reason(verifyHs256(await token({ nbf: now + 30 }), key, expect)), 'invalid');
  assert.equal(reason(verifyHs256(await token({ nbf: now - 30 }), key, expect)), 'ok');
});
