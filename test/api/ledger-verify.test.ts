import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { auth, depositTo, key, signUp, startApi, type Session, type TestApi } from '../helpers/api.ts';

const run = promisify(execFile);
let api: TestApi;
let operator: Session;
let alice: Session;
before(async () => {
  api = await startApi();
  operator = await signUp(api, { role: 'operator' });
  alice = await signUp(api);
  const bob = await signUp(api);
  await depositTo(api, operator, alice.walletId, '50');
  await api.app.inject({ method: 'POST', url: '/v1/transfers', headers: auth(alice, key()), payload: { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: '20', currency: 'USD' } });
});
after(async () => {
  await api.close();
});

function verifyCli() {
  return run(process.execPath, ['--import', 'tsx', 'scripts/verify.ts'], { env: { ...process.env, DATABASE_URL: api.db.url } })
    .then(({ stdout }) => ({ code: 0, stdout }))
    .catch((error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }));
}

test('operators verify the ledger over HTTP and with npm run verify; customers may not', async () => {
  const response = await api.app.inject({ url: '/v1/ledger/verify', headers: auth(operator) });
  assert.equal(response.statusCode, 200);
  const body = response.json();
  assert.equal(body.ok, true);
  assert.deepEqual(body.mismatches, []);
  assert.ok(body.currencies.every((currency: { total: string }) => /^0(\.0+)?$/.test(currency.total)));
  assert.equal((await api.app.inject({ url: '/v1/ledger/verify', headers: auth(alice) })).statusCode, 403);
  const cli = await verifyCli();
  assert.equal(cli.code, 0);
  assert.match(cli.stdout, /ledger verified: ok/);
});

test('an entry edited behind the service’s back fails verification, naming the account', async () => {
  // What an attacker with database access could do: switch the guard off and rewrite history.
  await api.db.pool.query('alter table entries disable trigger entries_append_only');
  await api.db.pool.query('update entries set amount = amount + 1, balance_after = balance_after + 1 where account_id = $1 and version = 1', [alice.walletId]);
  await api.db.pool.query('alter table entries enable trigger entries_append_only');
  const response = await api.app.inject({ url: '/v1/ledger/verify', headers: auth(operator) });
  const body = response.json();
  assert.equal(body.ok, false);
  assert.ok(body.mismatches.some((mismatch: { account_id?: string; kind: string }) => mismatch.account_id === alice.walletId), JSON.stringify(body.mismatches));
  const cli = await verifyCli();
  assert.equal(cli.code, 1);
  assert.match(cli.stdout, new RegExp(`MISMATCH \\w+ ${alice.walletId}`));
});
