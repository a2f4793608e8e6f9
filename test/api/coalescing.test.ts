import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { auth, depositTo, key, signUp, startApi, type Session, type TestApi } from '../helpers/api.ts';
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

/** `count` payments at once, the index-th from and to the sessions `parties` picks, of 1 + index % spread minor units. */
function payAtOnce(on: TestApi, count: number, spread: number, parties: (index: number) => [Session, Session]) {
  return Promise.all(
    Array.from({ length: count }, (_, index) => {
      const [from, to] = parties(index);
      return on.app.inject({
        method: 'POST',
        url: '/v1/transfers',
        headers: auth(from, key()),
        payload: { from_wallet_id: from.walletId, to_wallet_id: to.walletId, amount: String(1 + (index % spread)), currency: 'USD' },
      });
    }),
  );
}

/** Every payment was made or refused for want of funds, and each made one has its own transfer. */
function assertOwnAnswers(responses: LightMyRequestResponse[]): void {
  const statuses = responses.map((response) => response.statusCode);
  assert.ok(statuses.every((status) => status === 201 || status === 422), statuses.join(','));
  const ids = responses.filter((response) => response.statusCode === 201).map((response) => response.json().id);
  assert.equal(new Set(ids).size, ids.length, 'every caller got its own transfer');
}

async function assertConserved(on: TestApi, sessions: Session[], cents: bigint): Promise<void> {
  const balances = await Promise.all(sessions.map(async (session) => (await on.app.inject({ url: `/v1/wallets/${session.walletId}`, headers: auth(session) })).json().balance));
  assert.equal(balances.reduce((sum, balance) => sum + BigInt(balance.replace('.', '')), 0n), cents, 'cents are conserved');
  assert.deepEqual((await verifyLedger(on.db.pool)).mismatches, []);
}

test('300 concurrent payments between two hot wallets: own answers, shared commits, money conserved', async () => {
  const operator = await signUp(api, { role: 'operator' });
  const alice = await signUp(api);
  const bob = await signUp(api);
  await depositTo(api, operator, alice.walletId, '100');
  await depositTo(api, operator, bob.walletId, '100');
  batchSizes.length = 0;
  const responses = await payAtOnce(api, 300, 50, (index) => (index % 2 === 0 ? [alice, bob] : [bob, alice]));
  assertOwnAnswers(responses);
  assert.ok(batchSizes.length < 300 && Math.max(...batchSizes) > 1, `requests were coalesced: ${batchSizes.length} commits for 300 requests`);
  await assertConserved(api, [alice, bob], 20_000n);
});

test('two production writers, each on its pipelined connection: 400 concurrent payments among 6 wallets conserve money', async () => {
  const twoWriters = await startApi({ LEDGER_WRITERS: '2' });
  try {
    const operator = await signUp(twoWriters, { role: 'operator' });
    const people = await Promise.all(Array.from({ length: 6 }, () => signUp(twoWriters)));
    for (const person of people) await depositTo(twoWriters, operator, person.walletId, '50');
    // The payee is 1 to 5 places on from the payer: never the payer.
    const responses = await payAtOnce(twoWriters, 400, 9, (index) => [people[index % 6]!, people[((index % 6) + 1 + (index % 5)) % 6]!]);
    assertOwnAnswers(responses);
    assert.ok(responses.filter((response) => response.statusCode === 201).length > 200, 'most payments went through');
    await assertConserved(twoWriters, people, 30_000n);
  } finally {
    await twoWriters.close();
  }
});
