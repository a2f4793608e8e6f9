import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { balanceAt, listEntries } from '../src/store/entries.ts';
import { postTransfers } from '../src/store/transfers.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { createWallets, deposit } from './helpers/ledger.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase({ poolSize: 2 });
});
after(() => db.drop());

test('balance at an instant and history windows find entries by time through their versions', async () => {
  const [wallet, other] = await createWallets(db.pool, 2);
  // Entries one batch apart, and several from one batch (they share a timestamp).
  for (const amount of [100n, 200n, 300n]) await deposit(db.pool, wallet!, amount);
  await postTransfers(db.pool, [{ transfers: [{ kind: 'deposit', toWalletId: wallet!, amount: 1n, currency: 'USD' }] },
    { transfers: [{ kind: 'deposit', toWalletId: wallet!, amount: 2n, currency: 'USD' }] },
    { transfers: [{ kind: 'transfer', fromWalletId: wallet!, toWalletId: other!, amount: 3n, currency: 'USD' }] }]);
  for (const amount of [400n, 500n]) await deposit(db.pool, wallet!, amount);

  // Whole milliseconds (truncating keeps them in order), so that instants the API can be given
  // (milliseconds) fall exactly on entries and "at or before" is tested at its edge.
  await db.pool.query('alter table entries disable trigger entries_append_only');
  await db.pool.query(`update entries set created_at = date_trunc('milliseconds', created_at) where account_id = $1`, [wallet]);
  await db.pool.query('alter table entries enable trigger entries_append_only');
  const { rows: entries } = await db.pool.query<{ version: bigint; at: string }>(
    `select version, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at
       from entries where account_id = $1 order by version`,
    [wallet],
  );
  assert.equal(entries.length, 8);
  assert.ok(new Set(entries.map((entry) => entry.at)).size < entries.length, 'some entries share a timestamp');

  // Every entry's exact time, one microsecond either side, and before and after all of them.
  const instants = entries.flatMap((entry) => [-1, 0, 1].map((microseconds) => ({ at: entry.at, microseconds })));
  instants.push({ at: '2000-01-01T00:00:00Z', microseconds: 0 }, { at: '2999-01-01T00:00:00Z', microseconds: 0 });
  for (const { at, microseconds } of instants) {
    const { rows } = await db.pool.query<{ found: bigint; expected: bigint }>(
      `with instant as (select $2::timestamptz + make_interval(secs => $3::int / 1000000.0) as at)
       select kassa_entry_version_before($1, instant.at) as found,
              (select coalesce(max(version), 0) from entries where account_id = $1 and created_at < instant.at) as expected
         from instant`,
      [wallet, at, microseconds],
    );
    assert.equal(rows[0]!.found, rows[0]!.expected, `entries before ${at} ${microseconds >= 0 ? '+' : ''}${microseconds} µs`);
  }

  // The store's reads at millisecond instants (what the API passes) against a plain scan: at,
  // and a millisecond either side of, every entry, and a sweep across them.
  const first = Date.parse(entries[0]!.at);
  const last = Date.parse(entries.at(-1)!.at);
  const step = Math.max(1, Math.floor((last - first) / 40));
  const instantsMs = entries.flatMap((entry) => [-1, 0, 1].map((offset) => Date.parse(entry.at) + offset));
  for (let ms = first - 2; ms <= last + 2; ms += step) instantsMs.push(ms);
  for (const ms of instantsMs) {
    const at = new Date(ms);
    const { rows } = await db.pool.query<{ balance: bigint }>(
      `select coalesce((select balance_after from entries where account_id = $1 and created_at <= $2
                         order by version desc limit 1), 0) as balance`,
      [wallet, at],
    );
    assert.equal(await balanceAt(db.pool, wallet!, at), rows[0]!.balance, `balance at ${at.toISOString()}`);
    const from = new Date(ms - 3);
    const to = new Date(ms + 3);
    const { rows: window } = await db.pool.query<{ version: bigint }>(
      `select version from entries where account_id = $1 and created_at >= $2 and created_at < $3 order by version desc`,
      [wallet, from, to],
    );
    const page = await listEntries(db.pool, wallet!, { limit: 100, from, to });
    assert.deepEqual(page.items.map((entry) => entry.version), window.map((row) => row.version), `entries in [${from.toISOString()}, ${to.toISOString()})`);
  }

  // Windows combine with the cursor and the page size.
  const all = await listEntries(db.pool, wallet!, { limit: 3 });
  assert.deepEqual(all.items.map((entry) => entry.version), [8n, 7n, 6n]);
  const next = await listEntries(db.pool, wallet!, { limit: 3, before: all.next!, from: new Date(first - 1) });
  assert.deepEqual(next.items.map((entry) => entry.version), [5n, 4n, 3n]);
  const onlyTo = await listEntries(db.pool, wallet!, { limit: 100, to: new Date(Date.parse(entries[2]!.at) + 1) });
  assert.deepEqual(onlyTo.items.map((entry) => entry.version), entries.filter((entry) => Date.parse(entry.at) < Date.parse(entries[2]!.at) + 1).map((entry) => entry.version).reverse());
  assert.deepEqual((await listEntries(db.pool, other!, { limit: 10, to: new Date(first - 1) })).items, [], 'nothing before the first entry');
});
