import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { auth, depositTo, key, signUp, startApi, type TestApi } from '../helpers/api.ts';
import { createCoalescingWriter } from '../../src/services/coalescer.ts';
import { postTransfers } from '../../src/store/transfers.ts';
import { verifyLedger } from '../../src/store/verify.ts';
import type { PostRequest } from '../../src/ledger/transfer.ts';

let api: TestApi;
const batchSizes: number[] = [];
before(async () => {
  // The production writer, with its batches recorded.
  api = await startApi({}, {
    write: createCoalescingWriter({
      writeBatch: (requests: PostRequest[]) => {
        batchSizes.push(requests.length);
        return postTransfers(api.db.pool, requests);
      },
      inFlightMax: 2,
      batchTransfersMax: 2_000,
      queueMax: 10_000,
    }),
  });
});
after(async () => {
  await api.close();
});

test('300 concurrent payments between two hot wallets: own answers, shared commits, money conserved', async () => {
  const operator = await signUp(api, { role: 'operator' });
  const alice = await signUp(api);
  const bob = await signUp(api);
  await depositTo(api, operator, alice.walletId, '100');
  await depositTo(api, operator, bob.walletId, '100');
  batchSizes.length = 0;
  const responses = await Promise.all(
    Array.from({ length: 300 }, (_, index) => {
      const [from, to] = index % 2 === 0 ? [alice, bob] : [bob, alice];
      return api.app.inject({
        method: 'POST',
        url: '/v1/transfers',
        headers: auth(from, key()),
        payload: { from_wallet_id: from.walletId, to_wallet_id: to.walletId, amount: String(1 + (index % 50)), currency: 'USD' },
      });
    }),
  );
  const statuses = responses.map((response) => response.statusCode);
  assert.ok(statuses.every((status) => status === 201 || status === 422), statuses.join(','));
  const ids = responses.filter((response) => response.statusCode === 201).map((response) => response.json().id);
  assert.equal(new Set(ids).size, ids.length, 'every caller got its own transfer');
  assert.ok(batchSizes.length < 300 && Math.max(...batchSizes) > 1, `requests were coalesced: ${batchSizes.length} commits for 300 requests`);
  const balances = await Promise.all([alice, bob].map(async (session) => (await api.app.inject({ url: `/v1/wallets/${session.walletId}`, headers: auth(session) })).json().balance));
  assert.equal(balances.reduce((sum, balance) => sum + BigInt(balance.replace('.', '')), 0n), 20_000n, 'cents are conserved');
  assert.deepEqual((await verifyLedger(api.db.pool)).mismatches, []);
});

test('two production writers, each on its pipelined connection: 400 concurrent payments among 6 wallets conserve money', async () => {
  const twoWriters = await startApi({ LEDGER_WRITERS: '2' });
  try {
    const operator = await signUp(twoWriters, { role: 'operator' });
    const people = await Promise.all(Array.from({ length: 6 }, () => signUp(twoWriters)));
    for (const person of people) await depositTo(twoWriters, operator, person.walletId, '50');
    const responses = await Promise.all(
      Array.from({ length: 400 }, (_, index) => {
        const from = people[index % 6]!;
        const to = people[((index % 6) + 1 + (index % 5)) % 6]!; // 1 to 5 places on: never the payer
        return twoWriters.app.inject({
          method: 'POST',
          url: '/v1/transfers',
          headers: auth(from, key()),
          payload: { from_wallet_id: from.walletId, to_wallet_id: to.walletId, amount: String(1 + (index % 9)), currency: 'USD' },
        });
      }),
    );
    const statuses = responses.map((response) => response.statusCode);
    assert.ok(statuses.every((status) => status === 201 || status === 422), statuses.join(','));
    assert.ok(statuses.filter((status) => status === 201).length > 200, 'most payments went through');
    const ids = responses.filter((response) => response.statusCode === 201).map((response) => response.json().id);
    assert.equal(new Set(ids).size, ids.length, 'every caller got its own transfer');
    const balances = await Promise.all(people.map(async (person) => (await twoWriters.app.inject({ url: `/v1/wallets/${person.walletId}`, headers: auth(person) })).json().balance));
    assert.equal(balances.reduce((sum, balance) => sum + BigInt(balance.replace('.', '')), 0n), 30_000n, 'cents are conserved');
    assert.deepEqual((await verifyLedger(twoWriters.db.pool)).mismatches, []);
  } finally {
    await twoWriters.close();
  }
});
