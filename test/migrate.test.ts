import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { migrate } from '../src/db/migrate.ts';
import { writeQuery } from '../src/store/transfers.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase({ poolSize: 2 });
});
after(() => db.drop());

test('migrations run once; function files are applied and re-applied only when their text changes', async () => {
  const applied = await db.pool.query<{ name: string }>('select name from schema_functions order by name');
  assert.deepEqual(applied.rows.map((row) => row.name), ['post_transfers.sql', 'sequence_events.sql']);
  assert.deepEqual(await migrate(db.pool), [], 'nothing is pending on a migrated database');

  // A database whose function is older than the file (as after an upgrade from the version that
  // took one jsonb document and answered jsonb) gets the file's version, and only that one.
  const versions = async () =>
    (await db.pool.query<{ signature: string }>(`select oid::regprocedure::text as signature from pg_proc where proname = 'kassa_post_transfers'`)).rows;
  const [current] = await versions();
  await db.pool.query(`drop function ${current!.signature}; create function kassa_post_transfers(p_requests jsonb)
    returns table (request_index int, outcome text, response jsonb) language sql as $$ select 1, 'stale', null::jsonb $$`);
  await db.pool.query(`update schema_functions set checksum = 'older' where name = 'post_transfers.sql'`);
  assert.deepEqual(await migrate(db.pool), ['functions/post_transfers.sql']);
  const query = writeQuery([{ transfers: [] }], 'kassa_post_transfers', 'outcome');
  const { rows } = await db.pool.query<{ outcome: string }>(query.text, query.values);
  assert.deepEqual(rows.map((row) => row.outcome), ['applied'], 'the function is the file’s again');
  assert.deepEqual(await versions(), [current], 'the jsonb version is gone');
  assert.deepEqual(await migrate(db.pool), []);
});

test('stored responses and event data are lz4-compressed where the server supports it', async () => {
  const { rows } = await db.pool.query<{ lz4: boolean; compression: string }>(
    `select exists (select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any (enumvals)) as lz4,
            string_agg(attcompression::text, ',' order by attrelid::regclass::text) as compression
       from pg_attribute where (attrelid, attname) in (('idempotency_keys'::regclass, 'response'), ('outbox'::regclass, 'data'))`,
  );
  assert.equal(rows[0]!.compression, rows[0]!.lz4 ? 'l,l' : ',');
});

test('the write path plans no sequential scans, whatever the tables held when a connection planned it', async () => {
  // Plans are made once per connection (force_generic_plan); one made while a table was empty
  // must not scan it for ever after.
  const { rows } = await db.pool.query<{ name: string; config: string[] }>(
    `select proname as name, proconfig as config from pg_proc
      where proname in ('kassa_post_transfers', 'kassa_check_transfer_accounts') order by proname`,
  );
  assert.deepEqual(rows.map((row) => [row.name, row.config.includes('enable_seqscan=off')]), [
    ['kassa_check_transfer_accounts', true],
    ['kassa_post_transfers', true],
  ]);
});

test('the hash-chain functions are inlined into the write path, not run as a query per chain link', async () => {
  // A SQL function is inlined only when its declared volatility covers its body's.
  const { rows } = await db.pool.query<{ 'QUERY PLAN': string }>(
    `explain verbose select kassa_entry_hash('', null, 1, null, 1, 1, now()), kassa_transfer_hash(null, '', ''),
                            kassa_entry_hash_at('', null, 1, null, 1, 1, kassa_hash_time(now()))`,
  );
  const output = rows.map((row) => row['QUERY PLAN']).join('\n');
  assert.match(output, /sha256\(/);
  assert.doesNotMatch(output, /kassa_\w+\(/);
});

test('an entry hash is the SHA-256 of its fields and the previous hash, the time in UTC to the microsecond', async () => {
  const [account, transfer] = ['6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f', '01890a5d-ac96-774b-bcce-b302099a8057'];
  const { rows } = await db.pool.query<{ hash: string; at: string }>(
    `select kassa_entry_hash('ab12', $1, 7, $2, -500, 1500, '2026-01-02 03:04:05.123456+02') as hash,
            kassa_entry_hash_at('ab12', $1, 7, $2, -500, 1500, kassa_hash_time('2026-01-02 03:04:05.123456+02')) as at`,
    [account, transfer],
  );
  const expected = createHash('sha256').update(`ab12|${account}|7|${transfer}|-500|1500|2026-01-02T01:04:05.123456Z`).digest('hex');
  assert.deepEqual(rows[0], { hash: expected, at: expected });
});
