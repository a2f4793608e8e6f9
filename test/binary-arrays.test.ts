import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { booleanArray, int4Array, jsonbArray, textArray, uuidArray } from '../src/db/binaryArrays.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase({ poolSize: 2 });
});
after(() => db.drop());

/** The array as PostgreSQL reads it, element by element, as JSON. */
async function roundTrip(type: string, array: Buffer): Promise<unknown[]> {
  const { rows } = await db.pool.query<{ values: unknown[] | null }>(`select array_to_json($1::${type}[]) as values`, [array]);
  return rows[0]!.values ?? [];
}

test('binary arrays arrive as the values sent: NULLs where nothing was, any text as it was', async () => {
  const id = '0190f2c3-9a4b-7c1d-8e2f-3a4b5c6d7e8f';
  assert.deepEqual(await roundTrip('uuid', uuidArray([id, null, id.toUpperCase(), `urn:uuid:${id}`, undefined])), [id, null, id, id, null]);
  const texts = ['', 'plain', 'with "quotes", {braces} and \\ backslash', 'ünïcödé ✓ 𝄞', "it's"];
  assert.deepEqual(await roundTrip('text', textArray([...texts, null])), [...texts, null]);
  assert.deepEqual(await roundTrip('boolean', booleanArray([true, false, null])), [true, false, null]);
  assert.deepEqual(await roundTrip('int', int4Array([1, -1, 2_147_483_647, null])), [1, -1, 2_147_483_647, null]);
  const metadata = { nested: { list: [1, 'two', null] }, text: 'a "quoted" ✓' };
  assert.deepEqual(await roundTrip('jsonb', jsonbArray([metadata, undefined])), [metadata, null]);
  assert.deepEqual(await roundTrip('uuid', uuidArray([])), []);
});

test('a binary array of the wrong element type is refused by the server, not reinterpreted', async () => {
  await assert.rejects(db.pool.query('select $1::uuid[]', [textArray(['0190f2c3-9a4b-7c1d-8e2f-3a4b5c6d7e8f'])]), { code: '42804' });
});

test('a malformed UUID is refused before it is sent, never written as a different id', () => {
  for (const bad of ['0190f2c3-9a4b-7c1d-8e2f-3a4b5c6d7e8', '0190f2c3-9a4b-7c1d-8e2f-3a4b5c6d7e8g', '0190f2c39a4b7c1d8e2f3a4b5c6d7e8f', '']) {
    assert.throws(() => uuidArray([bad]), TypeError, bad);
  }
});
