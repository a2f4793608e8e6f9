import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { sweepExpired } from '../src/services/housekeeping.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db.drop();
});

test('idempotency keys live at least 24 hours and are swept after 48', async () => {
  await db.pool.query(
    `insert into idempotency_keys (scope, key, fingerprint, response, created_at) values
       ('s', 'fresh', 'f', '{}', now() - interval '25 hours'),
       ('s', 'old', 'f', '{}', now() - interval '49 hours')`,
  );
  const swept = await sweepExpired(db.pool);
  assert.equal(swept.idempotencyKeys, 1);
  const { rows } = await db.pool.query<{ key: string }>('select key from idempotency_keys');
  assert.deepEqual(rows.map((row) => row.key), ['fresh']);
});
