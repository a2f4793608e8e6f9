import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, depositTo, key, signUp, startApi, type Session, type TestApi } from '../helpers/api.ts';
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

async function payment(amount: string): Promise<{ payer: Session; payee: Session; transfer: { id: string; hash: string } }> {
  const payer = await signUp(api);
  const payee = await signUp(api);
  await depositTo(api, operator, payer.walletId, '100');
  const response = await api.app.inject({
    method: 'POST',
    url: '/v1/transfers',
    headers: auth(payer, key()),
    payload: { from_wallet_id: payer.walletId, to_wallet_id: payee.walletId, amount, currency: 'USD' },
  });
  return { payer, payee, transfer: response.json() };
}

test('a posted transfer carries a hash, and its public receipt verifies without revealing who paid whom', async () => {
  const { transfer } = await payment('12.34');
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
  const { payer, transfer } = await payment('10');
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
