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

test('finished webhook messages and attempts are swept after 30 days; pending ones and events stay', async () => {
  const { rows: hooks } = await db.pool.query<{ id: string }>(`insert into webhooks (url, events, secret) values ('https://example.com', '{*}', 'v1.x.y.z') returning id`);
  const hook = hooks[0]!.id;
  await db.pool.query(
    `insert into webhook_messages (webhook_id, event_sequence, state, next_attempt_at) values
       ($1, 1, 'delivered', now() - interval '31 days'), ($1, 2, 'failed', now() - interval '31 days'),
       ($1, 3, 'pending', now() - interval '31 days'), ($1, 4, 'delivered', now() - interval '29 days')`,
    [hook],
  );
  await db.pool.query(
    `insert into webhook_deliveries (webhook_id, event_id, event_type, attempt, succeeded, duration_ms, created_at) values
       ($1, gen_random_uuid(), 'user.created', 1, true, 3, now() - interval '31 days'),
       ($1, gen_random_uuid(), 'user.created', 1, true, 3, now() - interval '1 day')`,
    [hook],
  );
  const swept = await sweepExpired(db.pool);
  assert.equal(swept.webhookHistory, 3);
  const { rows } = await db.pool.query<{ event_sequence: string }>('select event_sequence::text from webhook_messages order by 1');
  assert.deepEqual(rows.map((row) => row.event_sequence), ['3', '4']);
  assert.equal((await db.pool.query('select 1 from webhook_deliveries')).rowCount, 1);
});
