import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryAttemptsMax, withRetry } from './retry.ts';

test('retries deadlocks and serialization failures, then succeeds', async () => {
  let calls = 0;
  const result = await withRetry(async () => {
    calls++;
    if (calls === 1) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
    if (calls === 2) throw Object.assign(new Error('could not serialize'), { code: '40001' });
    return 'done';
  });
  assert.equal(result, 'done');
  assert.equal(calls, 3);
});

test('retries an idempotency key committed concurrently, and no other unique violation', async () => {
  let calls = 0;
  const result = await withRetry(async () => {
    calls++;
    if (calls === 1) throw Object.assign(new Error('duplicate key'), { code: '23505', constraint: 'idempotency_keys_pkey' });
    return 'replayed';
  });
  assert.equal(result, 'replayed');
  assert.equal(calls, 2);

  calls = 0;
  await assert.rejects(
    withRetry(async () => {
      calls++;
      throw Object.assign(new Error('duplicate key'), { code: '23505', constraint: 'users_username_key' });
    }),
    /duplicate key/,
  );
  assert.equal(calls, 1);
});

test('gives up after a bounded number of attempts', async () => {
  let calls = 0;
  await assert.rejects(
    withRetry(async () => {
      calls++;
      throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
    }),
    /deadlock/,
  );
  assert.equal(calls, retryAttemptsMax);
});

test('never retries other errors, whose outcome may be unknown', async () => {
  let calls = 0;
  await assert.rejects(
    withRetry(async () => {
      calls++;
      throw Object.assign(new Error('connection terminated'), { code: '57P01' });
    }),
  );
  assert.equal(calls, 1);
});
