import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, depositTo, key, signUp, startApi, type Session, type TestApi } from '../helpers/api.ts';

let api: TestApi;
let operator: Session;
before(async () => {
  api = await startApi();
  operator = await signUp(api, { role: 'operator' });
});
after(async () => {
  await api.close();
});

describe('wallets', () => {
  test('a user opens one wallet per currency', async () => {
    const alice = await signUp(api);
    const eur = await api.app.inject({ method: 'POST', url: '/v1/wallets', headers: auth(alice), payload: { currency: 'EUR' } });
    assert.equal(eur.statusCode, 201);
    assert.equal(eur.json().currency, 'EUR');
    const again = await api.app.inject({ method: 'POST', url: '/v1/wallets', headers: auth(alice), payload: { currency: 'EUR' } });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'wallet_exists');
    const unknown = await api.app.inject({ method: 'POST', url: '/v1/wallets', headers: auth(alice), payload: { currency: 'ZZZ' } });
    assert.equal(unknown.json().code, 'currency_not_found');
    const list = await api.app.inject({ url: '/v1/wallets', headers: auth(alice) });
    assert.deepEqual(list.json().data.map((wallet: { currency: string }) => wallet.currency), ['EUR', 'USD'], 'newest first');
  });

  test('wallet lists paginate with cursors; operators list anyone, customers only themselves', async () => {
    const alice = await signUp(api);
    for (const currency of ['EUR', 'GBP', 'JPY', 'BTC']) {
      await api.app.inject({ method: 'POST', url: '/v1/wallets', headers: auth(alice), payload: { currency } });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { json(): { data: { currency: string }[]; next_cursor: string | null } } = await api.app.inject({ url: `/v1/wallets?user_id=${alice.userId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, headers: auth(operator) });
      seen.push(...page.json().data.map((wallet) => wallet.currency));
      cursor = page.json().next_cursor;
    } while (cursor);
    assert.deepEqual(seen.sort(), ['BTC', 'EUR', 'GBP', 'JPY', 'USD']);
    const snoop = await api.app.inject({ url: `/v1/wallets?user_id=${operator.userId}`, headers: auth(alice) });
    assert.equal(snoop.statusCode, 403);
  });

  test("someone else's wallet is 404 on every read, exactly like a missing wallet", async () => {
    const alice = await signUp(api);
    const mallory = await signUp(api);
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const path of ['', '/entries', '/balance']) {
      const theirs = await api.app.inject({ url: `/v1/wallets/${alice.walletId}${path}`, headers: auth(mallory) });
      const none = await api.app.inject({ url: `/v1/wallets/${missing}${path}`, headers: auth(mallory) });
      assert.equal(theirs.statusCode, 404);
      assert.equal(theirs.json().code, 'wallet_not_found');
      assert.equal(none.json().code, 'wallet_not_found');
    }
    const transfers = await api.app.inject({ url: `/v1/transfers?wallet_id=${alice.walletId}`, headers: auth(mallory) });
    assert.equal(transfers.json().code, 'wallet_not_found');
    const asOperator = await api.app.inject({ url: `/v1/wallets/${alice.walletId}`, headers: auth(operator) });
    assert.equal(asOperator.statusCode, 200);
  });
});

describe('history', () => {
  test('entries page newest first with signed amounts and running balances', async () => {
    const alice = await signUp(api);
    const bob = await signUp(api);
    await depositTo(api, operator, alice.walletId, '10');
    for (const amount of ['1', '2', '3']) {
      await api.app.inject({ method: 'POST', url: '/v1/transfers', headers: auth(alice, key()), payload: { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount, currency: 'USD' } });
    }
    const first = await api.app.inject({ url: `/v1/wallets/${alice.walletId}/entries?limit=2`, headers: auth(alice) });
    assert.deepEqual(first.json().data.map((entry: { amount: string; balance_after: string }) => [entry.amount, entry.balance_after]), [['-3.00', '4.00'], ['-2.00', '7.00']]);
    const second = await api.app.inject({ url: `/v1/wallets/${alice.walletId}/entries?limit=2&cursor=${first.json().next_cursor}`, headers: auth(alice) });
    assert.deepEqual(second.json().data.map((entry: { amount: string }) => entry.amount), ['-1.00', '10.00']);
    assert.equal(second.json().next_cursor, null);
    const transfers = await api.app.inject({ url: `/v1/transfers?wallet_id=${bob.walletId}`, headers: auth(bob) });
    assert.deepEqual(transfers.json().data.map((transfer: { amount: string }) => transfer.amount), ['3.00', '2.00', '1.00']);
    const all = await api.app.inject({ url: '/v1/transfers', headers: auth(alice) });
    assert.equal(all.json().data.length, 4, "without wallet_id: every transfer of the caller's wallets");
  });

  test('a cursor must be one the API issued for that list', async () => {
    const alice = await signUp(api);
    for (const cursor of ['garbage', Buffer.from('["transfers","5"]').toString('base64url'), Buffer.from('["entries","-1"]').toString('base64url')]) {
      const response = await api.app.inject({ url: `/v1/wallets/${alice.walletId}/entries?cursor=${cursor}`, headers: auth(alice) });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().code, 'invalid_cursor');
    }
    const limit = await api.app.inject({ url: `/v1/wallets/${alice.walletId}/entries?limit=101`, headers: auth(alice) });
    assert.equal(limit.json().code, 'validation_failed');
  });

  test('balance at a time reads the history', async () => {
    const alice = await signUp(api);
    const before = new Date(Date.now() - 1_000).toISOString();
    await depositTo(api, operator, alice.walletId, '42.42');
    const past = await api.app.inject({ url: `/v1/wallets/${alice.walletId}/balance?at=${before}`, headers: auth(alice) });
    const pastBody = past.json() as Record<string, unknown>;
    assert.deepEqual({ ...pastBody, at: undefined }, { wallet_id: alice.walletId, currency: 'USD', at: undefined, balance: '0.00' });
    assert.equal(pastBody.at, before);
    const now = await api.app.inject({ url: `/v1/wallets/${alice.walletId}/balance`, headers: auth(alice) });
    assert.equal(now.json().balance, '42.42');
    const bad = await api.app.inject({ url: `/v1/wallets/${alice.walletId}/balance?at=yesterday`, headers: auth(alice) });
    assert.equal(bad.json().code, 'validation_failed');
  });
});

describe('currencies', () => {
  test('lists the seeded currencies with their scales', async () => {
    const list = await api.app.inject({ url: '/v1/currencies' });
    const scales = Object.fromEntries(list.json().data.map((currency: { code: string; scale: number }) => [currency.code, currency.scale]));
    assert.deepEqual(scales, { BTC: 8, ETH: 18, EUR: 2, GBP: 2, JPY: 0, USD: 2 });
    assert.equal((await api.app.inject({ url: '/v1/currencies/btc' })).json().kind, 'crypto');
    assert.equal((await api.app.inject({ url: '/v1/currencies/ABC' })).json().code, 'currency_not_found');
  });
});
