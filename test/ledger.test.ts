import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { createWallets, deposit, move } from './helpers/ledger.ts';
import { postTransfers, getTransfer, listTransfers, writeQuery } from '../src/store/transfers.ts';
import { getWallet } from '../src/store/wallets.ts';
import { balanceAt, listEntries } from '../src/store/entries.ts';
import { verifyLedger } from '../src/store/verify.ts';
import type { TransferResult } from '../src/ledger/transfer.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db.drop();
});

function errorCode(result: TransferResult | undefined): string | undefined {
  return result && !result.ok ? result.code : undefined;
}

async function balances(...walletIds: string[]): Promise<bigint[]> {
  return Promise.all(walletIds.map(async (id) => (await getWallet(db.pool, id))!.balance));
}

describe('money movement', () => {
  test('deposit, transfer and withdrawal post balanced entries against the system account', async () => {
    const [alice, bob] = await createWallets(db.pool, 2);
    await deposit(db.pool, alice!, 10_000n);
    const [transfer, withdrawal] = await postTransfers(db.pool, [
      { transfers: [move(alice!, bob!, 2_500n)] },
      { transfers: [{ kind: 'withdrawal', fromWalletId: bob!, amount: 500n, currency: 'USD' }] },
    ]);
    assert.equal(transfer?.outcome, 'applied');
    assert.equal(withdrawal?.outcome, 'applied');
    assert.deepEqual(await balances(alice!, bob!), [7_500n, 2_000n]);
    const posted = transfer?.outcome === 'applied' ? transfer.results[0] : undefined;
    assert.ok(posted?.ok);
    assert.equal(posted.transfer.status, 'posted');
    assert.equal(posted.transfer.amount, 2_500n);
    const withdrawn = withdrawal?.outcome === 'applied' ? withdrawal.results[0] : undefined;
    assert.ok(withdrawn?.ok);
    assert.equal(withdrawn.transfer.toWalletId, null, 'withdrawals show no destination wallet');
    assert.equal((await verifyLedger(db.pool)).ok, true);
  });

  test('every typed failure changes nothing', async () => {
    const [alice, bob] = await createWallets(db.pool, 2);
    const [euro] = await createWallets(db.pool, 1, 'EUR');
    await deposit(db.pool, alice!, 1_000n);
    const missing = '00000000-0000-4000-8000-000000000000';
    const outcomes = await postTransfers(db.pool, [
      { transfers: [move(alice!, bob!, 1_001n)] },
      { transfers: [move(alice!, euro!, 1n)] },
      { transfers: [move(alice!, alice!, 1n)] },
      { transfers: [move(missing, bob!, 1n)] },
      { transfers: [move(alice!, missing, 1n)] },
      { transfers: [{ ...move(alice!, bob!, 1n), ownerId: missing }] },
      { transfers: [{ kind: 'transfer', fromWalletId: alice!, toUsername: 'nobody-at-all', amount: 1n, currency: 'USD' }] },
      { transfers: [move(alice!, bob!, 0n)] },
      { transfers: [move(alice!, bob!, -5n)] },
      { transfers: [move(alice!, bob!, 1n, 'EUR')] },
      { transfers: [{ kind: 'deposit', toWalletId: alice!, amount: 1n, currency: 'XXX' }] },
    ]);
    const codes = outcomes.map((outcome) => (outcome.outcome === 'applied' ? errorCode(outcome.results[0]) : outcome.outcome));
    assert.deepEqual(codes, [
      'insufficient_funds',
      'currency_mismatch',
      'same_wallet',
      'wallet_not_found',
      'wallet_not_found',
      'wallet_not_found',
      'user_not_found',
      'invalid_amount',
      'invalid_amount',
      'currency_mismatch',
      'currency_not_found',
    ]);
    assert.deepEqual(await balances(alice!, bob!, euro!), [1_000n, 0n, 0n]);
    assert.equal((await listEntries(db.pool, alice!, { limit: 10 })).items.length, 1, 'only the deposit entry');
  });

  test('the write function itself refuses an amount that is not a positive whole number that fits NUMERIC(38)', async () => {
    const [alice, bob] = await createWallets(db.pool, 2);
    await deposit(db.pool, alice!, 10n ** 37n);
    const item = (amount: string | null) => ({ kind: 'transfer', from_wallet_id: alice, to_wallet_id: bob, amount, currency: 'USD' });
    const amounts: (string | null)[] = ['', '1.5', '1e3', ' 1', '1 ', '12a', '+1', '\u0663', '0x10', '1'.repeat(41), '9'.repeat(40), null, '9'.repeat(38), '007'];
    const query = writeQuery(amounts.map((amount) => ({ transfers: [item(amount)] })));
    const { rows } = await db.pool.query<{ response: { results: { transfer?: { amount: string }; error?: { code: string } }[] } }>(
      `${query.text} order by request_index`,
      query.values,
    );
    const answers = rows.map((row) => row.response.results[0]!.error?.code ?? row.response.results[0]!.transfer!.amount);
    assert.deepEqual(answers, [...Array<string>(12).fill('invalid_amount'), 'insufficient_funds', '7']);
  });

  test('the write function refuses parameter arrays of different lengths instead of padding them with NULLs', async () => {
    const [alice, bob] = await createWallets(db.pool, 2);
    await deposit(db.pool, alice!, 100n);
    const move = { kind: 'transfer', from_wallet_id: alice, to_wallet_id: bob, amount: '1', currency: 'USD' };
    const query = writeQuery([{ transfers: [move] }, { transfers: [move] }]);
    const shorter = writeQuery([{ transfers: [move] }]).values;
    const withoutLast = (index: number) => query.values.map((value, at) => (at === index ? shorter[index]! : value));
    for (const index of [1, 5, 6, 8, 19]) {
      await assert.rejects(db.pool.query(query.text, withoutLast(index)), { code: '22023' }, `parameter ${index + 1}`);
    }
    assert.deepEqual(await balances(alice!, bob!), [100n, 0n], 'nothing moved');
  });

  test('a failure mid-batch rolls back nothing that succeeded and applies nothing that failed', async () => {
    const [a, b, c] = await createWallets(db.pool, 3);
    await deposit(db.pool, a!, 100n);
    const [outcome] = await postTransfers(db.pool, [
      { transfers: [move(a!, b!, 60n), move(a!, c!, 60n), move(b!, c!, 10n), move(a!, c!, 40n)] },
    ]);
    assert.equal(outcome?.outcome, 'applied');
    const results = outcome?.outcome === 'applied' ? outcome.results : [];
    assert.deepEqual(results.map((result) => (result.ok ? 'posted' : result.code)), ['posted', 'insufficient_funds', 'posted', 'posted']);
    assert.deepEqual(await balances(a!, b!, c!), [0n, 50n, 50n]);
    assert.equal((await verifyLedger(db.pool)).ok, true);
  });

  test('an atomic batch applies all of its transfers or none of them', async () => {
    const [a, b, c] = await createWallets(db.pool, 3);
    await deposit(db.pool, a!, 100n);
    const [failed, succeeded] = await postTransfers(db.pool, [
      { atomic: true, transfers: [move(a!, b!, 60n), move(b!, c!, 30n), move(a!, c!, 60n)] },
      { atomic: true, transfers: [move(a!, b!, 60n), move(b!, c!, 30n)] },
    ]);
    const codes = failed?.outcome === 'applied' ? failed.results.map((result) => (result.ok ? 'posted' : result.code)) : [];
    assert.deepEqual(codes, ['batch_aborted', 'batch_aborted', 'insufficient_funds']);
    assert.ok(succeeded?.outcome === 'applied' && succeeded.results.every((result) => result.ok));
    assert.deepEqual(await balances(a!, b!, c!), [40n, 30n, 30n]);
    assert.equal((await verifyLedger(db.pool)).ok, true);
  });

  test('transfer to a username finds that user wallet in the currency', async () => {
    const [alice] = await createWallets(db.pool, 1);
    const { rows } = await db.pool.query<{ username: string; id: string }>(
      `insert into users (username, password_hash, name) values ('Carol_Named', 'x', 'Carol') returning username, id`,
    );
    const { rows: wallets } = await db.pool.query<{ id: string }>(`insert into accounts (kind, user_id, currency) values ('wallet', $1, 'USD') returning id`, [rows[0]!.id]);
    await deposit(db.pool, alice!, 500n);
    const [outcome] = await postTransfers(db.pool, [
      { transfers: [{ kind: 'transfer', fromWalletId: alice!, toUsername: 'carol_named', amount: 200n, currency: 'USD' }] },
      { transfers: [{ kind: 'transfer', fromWalletId: alice!, toUsername: 'carol_named', amount: 1n, currency: 'USD' }] },
    ]);
    assert.ok(outcome?.outcome === 'applied' && outcome.results[0]?.ok);
    assert.equal(outcome.results[0].transfer.toWalletId, wallets[0]!.id);
    assert.deepEqual(await balances(wallets[0]!.id), [201n]);
  });

  test('ETH amounts wider than 64 bits move exactly', async () => {
    const [a, b] = await createWallets(db.pool, 2, 'ETH');
    const huge = 123_456_789n * 10n ** 18n + 1n; // well past 2^63
    await deposit(db.pool, a!, huge * 2n, 'ETH');
    await postTransfers(db.pool, [{ transfers: [move(a!, b!, huge, 'ETH')] }]);
    assert.deepEqual(await balances(a!, b!), [huge, huge]);
  });
});

describe('idempotency in the write function', () => {
  test('a replay returns the first result and moves nothing again', async () => {
    const [a, b] = await createWallets(db.pool, 2);
    await deposit(db.pool, a!, 100n);
    const request = { idempotency: { scope: 'user-1', key: 'pay-1', fingerprint: 'f1' }, transfers: [move(a!, b!, 30n)] };
    const [first] = await postTransfers(db.pool, [request]);
    const [second] = await postTransfers(db.pool, [request]);
    assert.equal(first?.outcome, 'applied');
    assert.equal(second?.outcome, 'replayed');
    assert.deepEqual(second?.outcome === 'replayed' && second.results, first?.outcome === 'applied' && first.results);
    assert.deepEqual(await balances(a!, b!), [70n, 30n]);
    const [reused] = await postTransfers(db.pool, [{ ...request, idempotency: { ...request.idempotency, fingerprint: 'f2' } }]);
    assert.equal(reused?.outcome, 'key_reused');
    const [otherScope] = await postTransfers(db.pool, [{ ...request, idempotency: { ...request.idempotency, scope: 'user-2' } }]);
    assert.equal(otherScope?.outcome, 'applied', 'keys are scoped to the caller');
  });

  test('a failed result is recorded and replayed too', async () => {
    const [a, b] = await createWallets(db.pool, 2);
    const request = { idempotency: { scope: 's', key: 'broke', fingerprint: 'f' }, transfers: [move(a!, b!, 30n)] };
    const [first] = await postTransfers(db.pool, [request]);
    await deposit(db.pool, a!, 100n);
    const [second] = await postTransfers(db.pool, [request]);
    assert.equal(second?.outcome, 'replayed');
    assert.deepEqual(second?.outcome === 'replayed' && second.results, first?.outcome === 'applied' && first.results);
    assert.deepEqual(await balances(a!, b!), [100n, 0n]);
  });

  test('the same key twice in one batch: the second is in use', async () => {
    const [a, b] = await createWallets(db.pool, 2);
    await deposit(db.pool, a!, 100n);
    const request = { idempotency: { scope: 's', key: 'twice', fingerprint: 'f' }, transfers: [move(a!, b!, 10n)] };
    const outcomes = await postTransfers(db.pool, [request, request]);
    assert.deepEqual(outcomes.map((outcome) => outcome.outcome), ['applied', 'key_in_use']);
    assert.deepEqual(await balances(a!, b!), [90n, 10n]);
  });

  test('20 concurrent identical requests move money exactly once', async () => {
    const [a, b] = await createWallets(db.pool, 2);
    await deposit(db.pool, a!, 1_000n);
    const request = { idempotency: { scope: 's', key: 'race', fingerprint: 'f' }, transfers: [move(a!, b!, 7n)] };
    const outcomes = (await Promise.all(Array.from({ length: 20 }, () => postTransfers(db.pool, [request])))).flat();
    assert.equal(outcomes.filter((outcome) => outcome.outcome === 'applied').length, 1);
    assert.equal(outcomes.filter((outcome) => outcome.outcome === 'replayed').length, 19);
    assert.deepEqual(await balances(a!, b!), [993n, 7n]);
  });
});

describe('invariants enforced by the database itself', () => {
  async function rejects(sql: string, params: unknown[], pattern: RegExp): Promise<void> {
    await assert.rejects(db.pool.query(sql, params), pattern);
  }

  test('a wallet cannot go below zero, even written directly', async () => {
    const [a] = await createWallets(db.pool, 1);
    await rejects(`update accounts set balance = -1 where id = $1`, [a], /accounts_wallet_floor/);
  });

  test('entries cannot be updated, deleted or truncated', async () => {
    const [a] = await createWallets(db.pool, 1);
    await deposit(db.pool, a!, 10n);
    await rejects(`update entries set amount = 999 where account_id = $1`, [a], /append-only/);
    await rejects(`delete from entries where account_id = $1`, [a], /append-only/);
    await rejects(`truncate entries cascade`, [], /append-only/);
  });

  test('transfers need a positive amount and both sides in their currency', async () => {
    const [usd] = await createWallets(db.pool, 1);
    const [eur] = await createWallets(db.pool, 1, 'EUR');
    const insert = `insert into transfers (id, kind, status, from_account_id, to_account_id, currency, amount, created_at, updated_at)
                    values (gen_random_uuid(), 'transfer', 'posted', $1, $2, $3, $4, now(), now())`;
    await rejects(insert, [usd, eur, 'USD', 1], /must exist and hold its currency/);
    await rejects(insert, [usd, '00000000-0000-4000-8000-000000000000', 'USD', 1], /must exist and hold its currency/);
    const [usd2] = await createWallets(db.pool, 1);
    await rejects(insert, [usd, usd2, 'USD', 0], /check constraint/);
    await rejects(insert, [usd, usd, 'USD', 1], /check constraint/);
  });

  test('a transfer keeps its accounts and currency, and an account its currency and existence', async () => {
    const [a, b] = await createWallets(db.pool, 2);
    await deposit(db.pool, a!, 10n);
    await postTransfers(db.pool, [{ transfers: [move(a!, b!, 4n)] }]);
    await rejects(`update transfers set currency = 'EUR' where from_account_id = $1`, [a], /never change/);
    await rejects(`update transfers set to_account_id = from_account_id where to_account_id = $1`, [b], /never change/);
    await rejects(`update accounts set currency = 'EUR' where id = $1`, [a], /never change/);
    await rejects(`delete from accounts where id = $1`, [b], /never change/);
  });

  test('one wallet per user and currency', async () => {
    const [a] = await createWallets(db.pool, 1);
    await rejects(`insert into accounts (kind, user_id, currency) select 'wallet', user_id, 'USD' from accounts where id = $1`, [a], /duplicate key/);
  });
});

describe('reads', () => {
  test('entries and transfers paginate newest first without gaps or repeats', async () => {
    const [a, b] = await createWallets(db.pool, 2);
    await deposit(db.pool, a!, 1_000n);
    for (let i = 1; i <= 7; i++) await postTransfers(db.pool, [{ transfers: [move(a!, b!, BigInt(i))] }]);
    const seenEntries: bigint[] = [];
    let before: bigint | undefined;
    do {
      const page = await listEntries(db.pool, a!, { limit: 3, before });
      seenEntries.push(...page.items.map((entry) => entry.amount));
      before = page.next ?? undefined;
    } while (before !== undefined);
    assert.deepEqual(seenEntries, [-7n, -6n, -5n, -4n, -3n, -2n, -1n, 1_000n]);
    const seenTransfers: bigint[] = [];
    let beforeSeq: bigint | undefined;
    do {
      const page = await listTransfers(db.pool, { walletIds: [b!] }, { limit: 2, before: beforeSeq });
      seenTransfers.push(...page.items.map((transfer) => transfer.amount));
      beforeSeq = page.next ?? undefined;
    } while (beforeSeq !== undefined);
    assert.deepEqual(seenTransfers, [7n, 6n, 5n, 4n, 3n, 2n, 1n]);
  });

  test('balance at a time is the balance after the last entry at or before it', async () => {
    const [a, b] = await createWallets(db.pool, 2);
    const beforeAll = new Date(Date.now() - 60_000);
    await deposit(db.pool, a!, 100n);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const middle = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await postTransfers(db.pool, [{ transfers: [move(a!, b!, 40n)] }]);
    assert.equal(await balanceAt(db.pool, a!, beforeAll), 0n);
    assert.equal(await balanceAt(db.pool, a!, middle), 100n);
    assert.equal(await balanceAt(db.pool, a!, new Date()), 60n);
  });

  test('a transfer is read back with its parties', async () => {
    const [a, b] = await createWallets(db.pool, 2);
    await deposit(db.pool, a!, 100n);
    const [outcome] = await postTransfers(db.pool, [{ transfers: [{ ...move(a!, b!, 40n), description: 'rent', metadata: { flat: 3 }, reference: 'r-1' }] }]);
    const posted = outcome?.outcome === 'applied' ? outcome.results[0] : undefined;
    assert.ok(posted?.ok);
    const read = await getTransfer(db.pool, posted.transfer.id);
    assert.deepEqual(read?.transfer, posted.transfer, 'the stored transfer reads back as it was returned');
    assert.equal(typeof read?.fromUserId, 'string');
  });
});

describe('transfer ids', () => {
  const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  /** A UUIDv7's first 48 bits: its instant in Unix milliseconds. */
  const uuidMillis = (id: string) => parseInt(id.replaceAll('-', '').slice(0, 12), 16);

  test('are UUID version 7, in creation order', async () => {
    const [a, b] = await createWallets(db.pool, 2);
    await deposit(db.pool, a!, 100n);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [outcome] = await postTransfers(db.pool, [{ transfers: [move(a!, b!, 1n)] }]);
      const result = outcome?.outcome === 'applied' ? outcome.results[0] : undefined;
      ids.push(result?.ok ? result.transfer.id : '');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    for (const id of ids) assert.match(id, uuidV7);
    assert.deepEqual([...ids].sort(), ids, 'later transfers sort later');
    const millis = uuidMillis(ids[0]!);
    assert.ok(Math.abs(millis - Date.now()) < 60_000, 'the first 48 bits are the creation time in Unix milliseconds');
  });

  test('of transfers, entries and events are distinct version-7 UUIDs of the call that wrote them', async () => {
    const wallets = await createWallets(db.pool, 6);
    for (const wallet of wallets) await deposit(db.pool, wallet, 1_000n);
    // Calls at once on several connections: they share milliseconds, so their ids differ only by
    // each call's random draw.
    const calls = await Promise.all(
      Array.from({ length: 8 }, (_, call) =>
        postTransfers(db.pool, [
          { transfers: Array.from({ length: 25 }, (_, item) => move(wallets[(call + item) % 6]!, wallets[(call + item + 1) % 6]!, 1n)) },
          { transfers: [move(wallets[call % 6]!, wallets[(call + 3) % 6]!, 1n)] },
        ]),
      ),
    );
    const transferIds = calls.map((outcomes) =>
      outcomes.flatMap((outcome) => (outcome.outcome === 'applied' ? outcome.results.map((result) => (result.ok ? result.transfer.id : '')) : [])),
    );
    const { rows } = await db.pool.query<{ id: string; created_at: Date; kind: string }>(
      `select t.id, t.created_at, 'transfer' as kind from transfers t where t.id = any($1::uuid[])
       union all select e.id, e.created_at, 'entry' from entries e where e.transfer_id = any($1::uuid[])
       union all select o.id, t.created_at, 'event' from outbox o join transfers t on t.id = (o.data->>'id')::uuid where t.id = any($1::uuid[])`,
      [transferIds.flat()],
    );
    assert.equal(rows.length, 8 * 26 * 4, 'each transfer, its two entries and its event');
    assert.equal(new Set(rows.map((row) => row.id)).size, rows.length, 'no id is used twice');
    for (const row of rows) {
      assert.match(row.id, uuidV7, `${row.kind} ${row.id}`);
      assert.equal(uuidMillis(row.id), Math.floor(row.created_at.getTime()), `${row.kind} ${row.id} carries its instant`);
    }
    for (const ids of transferIds) assert.deepEqual([...ids].sort(), ids, "a call's transfers sort in the order it wrote them");
    const { rows: sides } = await db.pool.query<{ debit: string; credit: string }>(
      `select min(e.id::text) filter (where e.amount < 0) as debit, min(e.id::text) filter (where e.amount > 0) as credit
         from entries e where e.transfer_id = any($1::uuid[]) group by e.transfer_id`,
      [transferIds.flat()],
    );
    for (const { debit, credit } of sides) assert.ok(debit < credit, `a transfer's debit entry (${debit}) sorts before its credit (${credit})`);
  });
});
