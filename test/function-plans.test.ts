// PL/pgSQL keeps a statement's plan for the life of its connection. Planned while a table was
// small, a statement reads the whole table when that is cheapest then, and goes on reading all of
// it as the table grows: the sequencer's rounds did so over a 5-minute soak until it was 180,000
// events behind. Each function that queries must reach its tables by index probes, whatever their
// size when its connection planned: here each is planned on a young ledger, the ledger grows by
// 30,000 rows, and the rows one more call reads are counted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPool, type Pool } from '../src/db/pool.ts';
import { postTransfers } from '../src/store/transfers.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { createWallets, deposit, move } from './helpers/ledger.ts';
import { waitFor } from './helpers/wait.ts';

let db: TestDatabase;
let connection: Pool; // one connection, so every call reuses the plans the first calls made
before(async () => {
  db = await createTestDatabase();
  connection = createPool({ connectionString: db.url, max: 1 });
});
after(async () => {
  await connection.end();
  await db.drop();
});

const grown = 30_000;

/** An outcome as an assertion message shows it (amounts are bigints). */
const shown = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? String(v) : v));

/** What `count` reads (a number from pg_stat_get_xact_*) before and after `call`, in one transaction. */
async function counted(count: string, parameters: unknown[], call: () => Promise<unknown>): Promise<number> {
  const read = async () => Number((await connection.query<{ n: bigint }>(`select (${count}) as n`, parameters)).rows[0]!.n);
  await connection.query('begin');
  try {
    const before = await read();
    await call();
    return (await read()) - before;
  } finally {
    await connection.query('commit');
  }
}

/**
 * Rows (heap tuples and index entries) `call` read from `table` and its indexes, or from the
 * given ones of them, counted in its own transaction.
 */
function rowsRead(table: string, call: () => Promise<unknown>, indexes?: string[]): Promise<number> {
  // Tuples returned: by the table's scans (its heap) and by its indexes' (their entries).
  return counted(
    `pg_stat_get_xact_tuples_returned($1::regclass)
       + (select sum(pg_stat_get_xact_tuples_returned(indexrelid)) from pg_index
           where indrelid = $1::regclass and ($2::text[] is null or indexrelid::regclass::text = any($2)))`,
    [table, indexes ?? null],
    call,
  );
}

/** Pages of `relation` (a table or an index) that `call` read, from the buffer cache or not. */
function pagesRead(relation: string, call: () => Promise<unknown>): Promise<number> {
  return counted('pg_stat_get_xact_blocks_fetched($1::regclass)', [relation], call);
}

async function writeEvents(count: number): Promise<void> {
  await connection.query(`insert into outbox (type, wallet_ids, data) select 'test.event', '{}', '{}' from generate_series(1, $1)`, [count]);
}

test('a sequencer round reads the events it numbers, not the whole outbox', async () => {
  await writeEvents(50);
  await connection.query('analyze outbox');
  // Past the five calls after which PostgreSQL keeps a generic plan.
  for (let round = 0; round < 8; round++) {
    await writeEvents(20);
    await connection.query('select * from kassa_sequence_events(500)');
  }
  // The outbox grows, and most of it is sequenced: a round then numbers the newest events.
  await writeEvents(grown);
  await connection.query('select * from kassa_sequence_events($1)', [grown]);
  await writeEvents(500);
  let sequenced = 0;
  // The heap and the key by sequence. (The index of unsequenced events holds entries for rows
  // sequenced since vacuum last ran; a scan skips them once it has seen them dead, which depends
  // on what else the server is running, so it is counted by pages, in the next test.)
  const read = await rowsRead('outbox', async () => {
    sequenced = (await connection.query<{ sequenced: number }>('select sequenced from kassa_sequence_events(500)')).rows[0]!.sequenced;
  }, ['outbox_sequence']);
  assert.equal(sequenced, 500);
  assert.ok(read < 5_000, `a round of 500 read ${read} outbox rows of ${grown + 710}`);
});

test('a round starts at the floor of unsequenced events, not at the first event ever numbered', async () => {
  // Each numbered event leaves a dead entry in the index of unsequenced ones until vacuum; here,
  // as on a server with autovacuum off, none runs.
  await connection.query('alter table outbox set (autovacuum_enabled = off)');
  await writeEvents(grown);
  const { rows: [newest] } = await connection.query<{ position: string }>('select max(position) as position from outbox');
  const floor = async () => BigInt((await connection.query<{ floor: string }>('select floor_position as floor from event_sequencer')).rows[0]!.floor);
  // The floor passes an event once the rounds after it have seen every older transaction end.
  await waitFor('the floor to pass the numbered events', async () => {
    await connection.query('select * from kassa_sequence_events($1)', [grown]);
    return (await floor()) > BigInt(newest!.position) ? true : undefined;
  }, 10_000);
  await writeEvents(500);
  let sequenced = 0;
  const pages = await pagesRead('outbox_unsequenced', async () => {
    sequenced = (await connection.query<{ sequenced: number }>('select sequenced from kassa_sequence_events(500)')).rows[0]!.sequenced;
  });
  assert.equal(sequenced, 500);
  assert.ok(pages < 20, `a round of 500 read ${pages} pages of the index of unsequenced events, past ${grown} dead entries`);
});

async function writeEntries(account: string, fromVersion: number, count: number): Promise<void> {
  await connection.query(
    `insert into entries (account_id, version, transfer_id, amount, balance_after, created_at, hash)
     select $1, v, gen_random_uuid(), 1, v, now(), 'test' from generate_series($2::bigint, $2::bigint + $3 - 1) v`,
    [account, fromVersion, count],
  );
}

test("finding an account's last entry before an instant reads a few entries, not all of them", async () => {
  const account = '00000000-0000-4000-8000-000000000001';
  const versionBefore = () => connection.query('select kassa_entry_version_before($1, now())', [account]);
  await writeEntries(account, 1, 10);
  await connection.query('analyze entries');
  for (let call = 0; call < 8; call++) await versionBefore();
  await writeEntries(account, 11, grown);
  const read = await rowsRead('entries', versionBefore);
  assert.ok(read < 100, `a binary search read ${read} entries of ${grown + 10}`);
});

test('a write reads the accounts and transfers it touches, not whole tables', async () => {
  const [payer, payee] = await createWallets(connection, 2);
  await deposit(connection, payer!, 1_000_000n);
  const holdAndCapture = async () => {
    const [held] = await postTransfers(connection, [{ transfers: [{ ...move(payer!, payee!, 1n), hold: { expiresInSeconds: 3_600 } }] }]);
    const hold = held?.outcome === 'applied' && held.results[0]?.ok ? held.results[0].transfer : assert.fail(shown(held));
    const [captured] = await postTransfers(connection, [{ transfers: [{ kind: 'capture', transferId: hold.id }] }]);
    assert.ok(captured?.outcome === 'applied' && captured.results[0]?.ok, shown(captured));
  };
  await connection.query('analyze');
  for (let call = 0; call < 8; call++) await holdAndCapture();
  await connection.query(`insert into accounts (kind, name, currency) select 'system', 'test:' || n, 'USD' from generate_series(1, $1::int) n`, [grown]);
  await connection.query(
    `insert into transfers (id, kind, status, from_account_id, to_account_id, currency, amount, captured_amount, created_at, updated_at)
     select gen_random_uuid(), 'transfer', 'posted', $1, $2, 'USD', 1, 1, now(), now() from generate_series(1, $3::int)`,
    [payer, payee, grown],
  );
  const accountsRead = await rowsRead('accounts', holdAndCapture);
  const transfersRead = await rowsRead('transfers', holdAndCapture);
  assert.ok(accountsRead < 100, `a hold and its capture read ${accountsRead} accounts of ${grown + 3}`);
  assert.ok(transfersRead < 100, `a hold and its capture read ${transfersRead} transfers of ${grown + 17}`);
});
