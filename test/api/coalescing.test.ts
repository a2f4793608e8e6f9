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
