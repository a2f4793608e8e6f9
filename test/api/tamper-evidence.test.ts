import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, depositTo, payment, signUp, startApi, testJwtSecret, type Session, type TestApi } from '../helpers/api.ts';
import { sealCheckpoint, sealKey } from '../../src/services/sealer.ts';
import { verifyLedger } from '../../src/store/verify.ts';

let api: TestApi;
let operator: Session;
before(async () => {
  api = await startApi();
  operator = await signUp(api, { role: 'operator' });
});
after(async () => {
  await api.close();
});

test('a posted transfer carries a hash, and its public receipt verifies without revealing who paid whom', async () => {
  const { transfer } = await payment(api, operator, '12.34');
  assert.match(transfer.hash, /^[0-9a-f]{64}$/);
  const receipt = await api.app.inject({ url: `/v1/receipts/${transfer.hash}` });
  assert.equal(receipt.statusCode, 200);
  assert.deepEqual({ ...(receipt.json() as object), created_at: undefined }, { hash: transfer.hash, kind: 'transfer', status: 'posted', amount: '12.34', currency: 'USD', created_at: undefined, verified: true });
  assert.equal((await api.app.inject({ url: `/v1/receipts/${'0'.repeat(64)}` })).statusCode, 404);
  assert.equal((await api.app.inject({ url: '/v1/receipts/not-a-hash' })).statusCode, 400);
  const verification = await api.app.inject({ url: '/v1/ledger/verify', headers: auth(operator) });
  assert.equal(verification.json().chain.ok, true);
});

test('a rewrite that keeps every balance consistent is still caught by the hash chain, naming the account', async () => {
  const { payer, transfer } = await payment(api, operator, '10');
  // The attacker makes the payment 1.00 smaller and fixes up everything arithmetic can check:
  // the entry, its running balance, the wallet balance and the transfer, on both sides.
  await api.db.pool.query('alter table entries disable trigger entries_append_only');
  await api.db.pool.query(`update entries set amount = amount + 100, balance_after = balance_after + 100 where transfer_id = $1 and amount < 0`, [transfer.id]);
  await api.db.pool.query(`update entries set amount = amount - 100, balance_after = balance_after - 100 where transfer_id = $1 and amount > 0`, [transfer.id]);
  await api.db.pool.query('alter table entries enable trigger entries_append_only');
  await api.db.pool.query(`update accounts set balance = balance + 100 where id = (select from_account_id from transfers where id = $1)`, [transfer.id]);
  await api.db.pool.query(`update accounts set balance = balance - 100 where id = (select to_account_id from transfers where id = $1)`, [transfer.id]);
  await api.db.pool.query(`update transfers set amount = amount - 100, captured_amount = captured_amount - 100 where id = $1`, [transfer.id]);

  const verification = await verifyLedger(api.db.pool);
  const arithmetic = verification.mismatches.filter((mismatch) => !mismatch.kind.endsWith('hash_mismatch'));
  assert.deepEqual(arithmetic, [], 'the forgery balances: only the hashes can tell');
  assert.equal(verification.chain.ok, false);
  assert.ok(verification.mismatches.some((mismatch) => mismatch.kind === 'entry_hash_mismatch' && mismatch.account_id === payer.walletId));
  const receipt = await api.app.inject({ url: `/v1/receipts/${transfer.hash}` });
  assert.equal(receipt.json().verified, false);
  assert.equal(receipt.json().amount, '9.00', 'the receipt shows what is stored, and says it does not verify');
});

test('signed checkpoints catch a rewrite that recomputes the chain, and forged checkpoints', async () => {
  const api = await startApi(); // a ledger of its own: the test above leaves a forgery behind
  const operator = await signUp(api, { role: 'operator' });
  const key = sealKey(testJwtSecret);
  const customer = await signUp(api);
  await depositTo(api, operator, customer.walletId, '50');
  assert.ok(await sealCheckpoint(api.db.pool, key));
  await depositTo(api, operator, customer.walletId, '1');
  assert.ok(await sealCheckpoint(api.db.pool, key), 'a second checkpoint records only what changed');
  const clean = await verifyLedger(api.db.pool, { sealKey: key });
  assert.equal(clean.chain.ok, true, JSON.stringify(clean.mismatches));
  assert.equal(clean.chain.checkpointsChecked, 2);

  // Rewrite the first deposit's entry and recompute its hash — and its successor's link and the
  // head — with the public hash function, as an attacker with database access could.
  await api.db.pool.query('alter table entries disable trigger entries_append_only');
  await api.db.pool.query(
    `update entries set amount = amount + 100, balance_after = balance_after + 100,
            hash = kassa_entry_hash('', account_id, version, transfer_id, amount + 100, balance_after + 100, created_at)
      where account_id = $1 and version = 1`,
    [customer.walletId],
  );
  await api.db.pool.query(
    `update entries e set balance_after = e.balance_after + 100,
            hash = kassa_entry_hash(p.hash, e.account_id, e.version, e.transfer_id, e.amount, e.balance_after + 100, e.created_at)
       from entries p where e.account_id = $1 and e.version = 2 and p.account_id = e.account_id and p.version = 1`,
    [customer.walletId],
  );
  await api.db.pool.query('alter table entries enable trigger entries_append_only');
  await api.db.pool.query(
    `update accounts a set balance = balance + 100, head_hash = (select hash from entries where account_id = a.id order by version desc limit 1) where id = $1`,
    [customer.walletId],
  );
  const verification = await verifyLedger(api.db.pool, { sealKey: key });
  assert.ok(!verification.mismatches.some((mismatch) => mismatch.kind === 'entry_hash_mismatch' && mismatch.account_id === customer.walletId), 'the chain itself was made consistent');
  assert.ok(verification.mismatches.some((mismatch) => mismatch.kind === 'checkpoint_mismatch' && mismatch.account_id === customer.walletId), JSON.stringify(verification.mismatches));

  await api.db.pool.query(`update ledger_checkpoints set root_hash = repeat('0', 64) where id = (select max(id) from ledger_checkpoints)`);
  const forged = await verifyLedger(api.db.pool, { sealKey: key });
  assert.ok(forged.mismatches.some((mismatch) => mismatch.kind === 'checkpoint_mismatch' && /signature/.test(mismatch.detail)));
  await api.close();
});
