import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { createPipelinedConnection } from '../src/db/pipelined.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
  await db.pool.query('create table probe (step int not null)');
});
after(() => db.drop());

test('queries sent at once run in order, each its own transaction: one that fails fails alone', async () => {
  const connection = createPipelinedConnection(db.pool);
  try {
    const first = connection.query<{ step: number }>('insert into probe (step) select 1 from pg_sleep(0.05) returning step', []);
    const failing = connection.query('select 1 / 0', []);
    const third = connection.query<{ step: number }>('insert into probe (step) values (3) returning step', []);
    assert.equal(connection.pending, 3, 'all three were sent without waiting for an answer');
    await assert.rejects(failing, { code: '22012' });
    assert.equal((await first).rows[0]?.step, 1);
    assert.equal((await third).rows[0]?.step, 3);
    assert.equal(connection.pending, 0);
    const { rows } = await db.pool.query<{ step: number }>('select step from probe order by step');
    assert.deepEqual(rows.map((row) => row.step), [1, 3], 'the failure rolled back only itself');
  } finally {
    await connection.end();
  }
});

test('a connection the server drops fails what was sent on it, and the next query opens a new one', async () => {
  const connection = createPipelinedConnection(db.pool);
  try {
    const { rows } = await connection.query<{ pid: number }>('select pg_backend_pid() as pid', []);
    const pid = rows[0]!.pid;
    // Both settle whichever fails first, so neither rejection goes unhandled meanwhile.
    const sent = Promise.allSettled([connection.query('select pg_sleep(5)', []), connection.query('select 1', [])]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await db.pool.query('select pg_terminate_backend($1)', [pid]);
    const [running, behind] = await sent;
    assert.equal(running.status, 'rejected');
    assert.equal(behind.status, 'rejected', 'a query waiting behind the lost one is not answered from nowhere');
    const again = await connection.query<{ pid: number }>('select pg_backend_pid() as pid', []);
    assert.notEqual(again.rows[0]!.pid, pid);
  } finally {
    await connection.end();
  }
});
