import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'typebox';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { recordContractViolations } from '../helpers/contract.ts';
import { testJwtSecret } from '../helpers/api.ts';

test('the contract check catches undocumented statuses and bodies that break their schema', async () => {
  const db = await createTestDatabase();
  const app = await buildApp({ config: loadConfig({}), pool: db.pool, jwtSecret: testJwtSecret });
  const schema = { response: { 200: Type.Object({ amount: Type.String({ pattern: '^[0-9]+\\.[0-9]{2}$' }) }) } };
  app.get('/v1/contract-probe/:mode', { config: { access: 'public' }, schema }, async (request, reply) => {
    const mode = (request.params as { mode: string }).mode;
    if (mode === 'undocumented') return reply.code(202 as 200).send({ amount: '1.00' }); // a status the schema does not list
    return { amount: mode === 'bad' ? '1.5' : '1.50' };
  });
  const violations = recordContractViolations(app);
  await app.ready();
  await app.inject({ url: '/v1/contract-probe/good' });
  assert.deepEqual(violations, []);
  await app.inject({ url: '/v1/contract-probe/bad' });
  await app.inject({ url: '/v1/contract-probe/undocumented' });
  assert.equal(violations.length, 2);
  assert.match(violations[0]!, /must match pattern/);
  assert.match(violations[1]!, /answered 202, which its schema does not document/);
  await app.close();
  await db.drop();
});

test('the OpenAPI document is 3.1 and describes every public endpoint', async () => {
  const db = await createTestDatabase();
  const app = await buildApp({ config: loadConfig({}), pool: db.pool, jwtSecret: testJwtSecret });
  const response = await app.inject({ url: '/openapi.json' });
  const document = response.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
  assert.equal(document.openapi, '3.1.0');
  const expected = {
    '/v1/users': ['post'], '/v1/auth/login': ['post'], '/v1/auth/refresh': ['post'], '/v1/auth/logout': ['post'], '/v1/me': ['get'],
    '/v1/currencies': ['get'], '/v1/currencies/{code}': ['get'], '/v1/wallets': ['get', 'post'], '/v1/wallets/{id}': ['get'],
    '/v1/wallets/{id}/entries': ['get'], '/v1/wallets/{id}/balance': ['get'], '/v1/transfers': ['get', 'post'],
    '/v1/transfers/batch': ['post'], '/v1/transfers/{id}': ['get'], '/v1/deposits': ['post'], '/v1/withdrawals': ['post'],
    '/v1/transfers/{id}/capture': ['post'], '/v1/transfers/{id}/void': ['post'], '/v1/ledger/verify': ['get'],
    '/v1/transfers/{id}/reverse': ['post'], '/v1/receipts/{hash}': ['get'],
  };
  for (const [path, methods] of Object.entries(expected)) {
    for (const method of methods) assert.ok(document.paths[path]?.[method], `${method} ${path} is documented`);
  }
  const docs = await app.inject({ url: '/docs/' });
  assert.equal(docs.statusCode, 200);
  assert.match(docs.body, /swagger/i);
  assert.doesNotMatch(docs.body, /https?:\/\/(cdn|unpkg|cdnjs)/, 'docs are served locally, no CDN');
  await app.close();
  await db.drop();
});
