// The event feed: every state change has its event, in one gap-free order that a late commit
// cannot be skipped in, per-wallet order that matches the ledger, and each user sees only their own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { Publisher } from '../../src/events/publisher.ts';
import { relayToBroker } from '../../src/events/relay.ts';
import { sequenceEvents } from '../../src/store/events.ts';
import { auth, depositTo, key, signUp, startApi, type Session, type TestApi } from '../helpers/api.ts';

let api: TestApi;
let operator: Session;

before(async () => {
  api = await startApi();
  operator = await signUp(api, { role: 'operator' });
});
after(() => api.close());

interface WireEvent {
  id: string;
  sequence: string;
  type: string;
  wallet_ids: string[];
  data: Record<string, unknown>;
}

async function feed(session: Session, after = '0'): Promise<WireEvent[]> {
  const events: WireEvent[] = [];
  let cursor: string | null = after;
  while (cursor !== null) {
    const response: LightMyRequestResponse = await api.app.inject({ method: 'GET', url: `/v1/events?after=${cursor}&limit=100`, headers: auth(session) });
    assert.equal(response.statusCode, 200, response.body);
    const page = response.json() as { data: WireEvent[]; next_cursor: string | null };
    events.push(...page.data);
    cursor = page.next_cursor;
  }
  return events;
}

async function sequenceAll(): Promise<void> {
  while ((await sequenceEvents(api.db.pool, 1_000)) > 0);
}

/** Runs `work` while rounds of `limit` events run beside it, as the relay runs them; then numbers the rest. */
async function withRoundsRunning(limit: number, work: () => Promise<unknown>): Promise<void> {
  let working = true;
  const rounds = (async () => {
    while (working) await sequenceEvents(api.db.pool, limit);
  })();
  try {
    await work();
  } finally {
    working = false;
    await rounds;
  }
  await sequenceAll();
}

async function transfer(from: Session, to: Session, amount: string, extra: Record<string, unknown> = {}) {
  const response = await api.app.inject({
    method: 'POST',
    url: '/v1/transfers',
    headers: auth(from, key()),
    payload: { from_wallet_id: from.walletId, to_wallet_id: to.walletId, amount, currency: 'USD', ...extra },
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json() as { id: string };
}

describe('the event feed', () => {
  test('every state change writes its event, and users see only their own wallets', async () => {
    const alice = await signUp(api);
    const bob = await signUp(api);
    const carol = await signUp(api);
    await depositTo(api, operator, alice.walletId, '50.00');
    const eur = await api.app.inject({ method: 'POST', url: '/v1/wallets', headers: auth(alice), payload: { currency: 'EUR' } });
    const payment = await transfer(alice, bob, '10.00');
    const hold = await transfer(alice, bob, '5.00', { hold: true });
    await api.app.inject({ method: 'POST', url: `/v1/transfers/${hold.id}/capture`, headers: auth(alice, key()), payload: { amount: '2.00' } });
    const voided = await transfer(alice, bob, '1.00', { hold: true });
    await api.app.inject({ method: 'POST', url: `/v1/transfers/${voided.id}/void`, headers: auth(alice, key()) });
    const reversal = await api.app.inject({ method: 'POST', url: `/v1/transfers/${payment.id}/reverse`, headers: auth(operator), payload: { reason: 'test' } });
    assert.equal(reversal.statusCode, 201, reversal.body);
    await api.app.inject({ method: 'POST', url: '/v1/withdrawals', headers: auth(alice, key()), payload: { wallet_id: alice.walletId, amount: '1.00', currency: 'USD' } });
    await sequenceAll();

    const aliceEvents = await feed(alice);
    assert.deepEqual(aliceEvents.map((event) => event.type), [
      'user.created', 'wallet.created', 'deposit.created', 'wallet.created', 'transfer.created', 'transfer.created', 'transfer.posted',
      'transfer.created', 'transfer.voided', 'transfer.reversed', 'withdrawal.created',
    ]);
    assert.equal(aliceEvents[3]!.data.wallet_id, eur.json().id);
    assert.equal(aliceEvents[2]!.data.amount, '50.00', 'transfer events carry the Transfer as the API renders it');
    assert.equal(aliceEvents[6]!.data.captured_amount, '2.00');
    assert.ok(aliceEvents.every((event) => event.wallet_ids.some((id) => id === alice.walletId || id === eur.json().id)));
    assert.deepEqual((await feed(bob)).map((event) => event.type), [
      'user.created', 'wallet.created', 'transfer.created', 'transfer.created', 'transfer.posted', 'transfer.created', 'transfer.voided', 'transfer.reversed',
    ]);
    assert.deepEqual((await feed(carol)).map((event) => event.type), ['user.created', 'wallet.created'], "carol sees nothing of alice's or bob's");

    const all = await feed(operator);
    assert.deepEqual(all.map((event) => BigInt(event.sequence)), all.map((_, index) => BigInt(index + 1)), 'the operator feed is gap-free');
    assert.equal(new Set(all.map((event) => event.id)).size, all.length);
    const again = await feed(operator);
    assert.deepEqual(again.map((event) => event.id), all.map((event) => event.id), 'ids and order are stable across reads');
    const tail = await feed(operator, all[all.length - 3]!.sequence);
    assert.deepEqual(tail.map((event) => event.id), all.slice(-2).map((event) => event.id), '`after` resumes right after that event');
  });

  test('a transaction that commits late is not skipped: it takes the next place in the order', async () => {
    const alice = await signUp(api);
    await depositTo(api, operator, alice.walletId, '5.00');
    const slow = await api.db.pool.connect();
    try {
      await slow.query('begin');
      // Takes its outbox position now, but commits only after later events have been read.
      const { rows: [taken] } = await slow.query<{ position: string }>(
        `insert into outbox (type, wallet_ids, data) values ('wallet.created', array[$1::uuid], '{"late": true}') returning position`, [alice.walletId],
      );
      // Round after round numbers the later events; the floor rounds start from must stay at or
      // below the open transaction's position.
      for (let round = 0; round < 4; round++) {
        await depositTo(api, operator, alice.walletId, '1.00');
        await sequenceAll();
      }
      const { rows: [sequencer] } = await api.db.pool.query<{ floor: string }>('select floor_position as floor from event_sequencer');
      assert.ok(BigInt(sequencer!.floor) <= BigInt(taken!.position), `the floor ${sequencer!.floor} passed an open transaction's event at ${taken!.position}`);
      const seen = await feed(alice);
      assert.equal(seen[seen.length - 1]!.type, 'deposit.created');
      await slow.query('commit');
      await sequenceAll();
      const late = await feed(alice, seen[seen.length - 1]!.sequence);
      assert.deepEqual(late.map((event) => event.data), [{ late: true }], 'a reader that had moved on still gets the late event');
    } finally {
      slow.release();
    }
  });

  test('under concurrent load, with rounds running, each wallet\'s events come in the order its entries were written', async () => {
    const wallets = await Promise.all(Array.from({ length: 4 }, () => signUp(api)));
    for (const wallet of wallets) await depositTo(api, operator, wallet.walletId, '100.00');
    // Rounds run while the writes commit, moving the floor as they go.
    await withRoundsRunning(7, () => Promise.all(Array.from({ length: 200 }, (_, index) => {
      const from = wallets[index % 4]!;
      const to = wallets[(index + 1 + (index >> 2) % 3) % 4]!; // never the payer
      return transfer(from, to, '0.01');
    })));
    const { rows: [left] } = await api.db.pool.query<{ unsequenced: number }>('select count(*)::int as unsequenced from outbox where sequence is null');
    assert.equal(left!.unsequenced, 0, 'no event was left behind the floor');
    const all = await feed(operator);
    for (const wallet of wallets) {
      const { rows } = await api.db.pool.query<{ transfer_id: string }>(
        'select transfer_id from entries where account_id = $1 order by version', [wallet.walletId],
      );
      const fromEvents = all.filter((event) => event.wallet_ids.includes(wallet.walletId) && event.type.endsWith('.created') && 'id' in event.data)
        .map((event) => event.data.id);
      assert.deepEqual(fromEvents, rows.map((row) => row.transfer_id));
    }
  });

  test('transactions that commit or roll back in any order while small rounds run: every committed event is numbered once', async () => {
    const alice = await signUp(api);
    const committed: string[] = [];
    const writer = async (seed: number) => {
      const client = await api.db.pool.connect();
      try {
        for (let step = 0; step < 12; step++) {
          await client.query('begin');
          // As every writer of the outbox does, it holds a transaction id before it takes a position.
          await client.query('select pg_current_xact_id()');
          const { rows: [taken] } = await client.query<{ position: string }>(
            `insert into outbox (type, wallet_ids, data) values ('wallet.created', array[$1::uuid], '{}') returning position`, [alice.walletId],
          );
          await new Promise((resolve) => setTimeout(resolve, (seed * 7 + step * 13) % 23));
          if ((seed + step) % 5 === 0) {
            await client.query('rollback');
          } else {
            await client.query('commit');
            committed.push(taken!.position);
          }
        }
      } finally {
        client.release();
      }
    };
    await withRoundsRunning(3, () => Promise.all([1, 2, 3, 4, 5].map(writer))); // small rounds: the floor stops at the limit too
    const { rows } = await api.db.pool.query<{ position: string; sequence: string | null }>(
      'select position, sequence from outbox where position = any($1::bigint[])', [committed],
    );
    assert.equal(rows.length, committed.length);
    assert.deepEqual(rows.filter((row) => row.sequence === null), [], 'every committed event has its number');
    const { rows: [numbers] } = await api.db.pool.query<{ events: number; distinct: number; last: number }>(
      'select count(*)::int as events, count(distinct sequence)::int as distinct, max(sequence)::int as last from outbox where sequence is not null',
    );
    assert.deepEqual(numbers, { events: numbers!.last, distinct: numbers!.last, last: numbers!.last }, 'numbers are 1..n, each once');
  });

  test('a malformed `after` or Last-Event-ID is a 400 problem', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/v1/events?after=-1', headers: auth(operator) });
    assert.equal(response.statusCode, 400);
    assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
    const stream = await api.app.inject({ method: 'GET', url: '/v1/events/stream', headers: { ...auth(operator), 'last-event-id': 'abc' } });
    assert.equal(stream.statusCode, 400);
    assert.equal(stream.json().code, 'invalid_cursor');
  });

  test('the broker relay: one instance at a time, and a death between publish and cursor means a re-send, not a loss', async () => {
    const alice = await signUp(api);
    await depositTo(api, operator, alice.walletId, '1.00');
    await sequenceAll();
    const batches: string[][] = [];
    let onPublish: () => Promise<void> = async () => {};
    const publisher: Publisher = {
      name: 'test',
      publish: async (events) => {
        batches.push(events.map((event) => event.sequence));
        await onPublish();
      },
      check: async () => {},
      close: async () => {},
    };

    // A second instance finds the lease taken while the first is publishing.
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    onPublish = () => hold;
    const first = relayToBroker(api.db.pool, publisher, currencies());
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await relayToBroker(api.db.pool, publisher, currencies()), 0, 'the other instance holds the cursor');
    // The first dies after the broker confirmed but before its cursor commit.
    onPublish = async () => {};
    await api.db.pool.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and state = 'idle in transaction' and pid <> pg_backend_pid()`,
    );
    release();
    await assert.rejects(first);
    const resent = await relayToBroker(api.db.pool, publisher, currencies());
    assert.ok(resent > 0);
    assert.deepEqual(batches[batches.length - 1], batches[0], 'the same events again, from the unmoved cursor');
    assert.equal(await relayToBroker(api.db.pool, publisher, currencies()), 0, 'and then nothing more');
  });
});

function currencies() {
  return new Map([['USD', { code: 'USD', name: 'US Dollar', scale: 2, kind: 'fiat' as const }]]);
}
