import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { timedCopy } from '../bench/phases.ts';
import { requestToWrite, writeQuery } from '../src/store/transfers.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { createWallets } from './helpers/ledger.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase({ poolSize: 2 });
});
after(() => db.drop());

test('npm run bench:phases: the timed copy of the write function behaves as the function and reports each statement', async () => {
  const sql = readFileSync(new URL('../src/db/functions/post_transfers.sql', import.meta.url), 'utf8');
  const [wallet] = await createWallets(db.pool, 1);
  const client = await db.pool.connect();
  try {
    const phases: string[] = [];
    client.on('notice', (notice) => phases.push(String(notice.message)));
    await client.query(timedCopy(sql, 'pg_temp.kassa_post_transfers_phases'));
    const query = writeQuery([requestToWrite({ transfers: [{ kind: 'deposit', toWalletId: wallet!, amount: 500n, currency: 'USD' }] })], 'pg_temp.kassa_post_transfers_phases', 'outcome, response');
    const { rows } = await client.query<{ outcome: string; response: { results: { transfer?: { status: string } }[] } }>(query.text, query.values);
    assert.equal(rows[0]!.outcome, 'applied');
    assert.equal(rows[0]!.response.results[0]!.transfer?.status, 'posted');
    const labels = phases.map((message) => message.split('|')[1]);
    for (const statement of ['insert into transfers', 'insert into entries', 'update accounts a', 'insert into idempotency_keys']) {
      assert.ok(labels.some((label) => label?.includes(statement)), `a phase for ${statement}`);
    }
  } finally {
    client.release();
  }
});
