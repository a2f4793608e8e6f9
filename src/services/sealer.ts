import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Pool } from '../db/pool.ts';

const sealLockId = 7_271_829; // one sealer at a time across instances

export interface Head {
  accountId: string;
  version: bigint;
  headHash: string;
}

/** The signing key: derived from the server secret, never stored in the database. */
export function sealKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'kassa', 'kassa-ledger-seal', 32));
}

export function rootOf(heads: Iterable<Head>): string {
  const lines = [...heads].sort((a, b) => (a.accountId < b.accountId ? -1 : 1)).map((head) => `${head.accountId}:${head.version}:${head.headHash}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}

function sign(key: Buffer, checkpoint: { root: string; previousRoot: string; accounts: number }): string {
  return createHmac('sha256', key).update(`${checkpoint.previousRoot}|${checkpoint.root}|${checkpoint.accounts}`).digest('hex');
}

/** Seals a checkpoint of every account head; returns its id, or undefined when another instance is sealing. */
export async function sealCheckpoint(pool: Pool, key: Buffer): Promise<bigint | undefined> {
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read'); // one snapshot for every head
    const { rows: locked } = await client.query<{ locked: boolean }>('select pg_try_advisory_xact_lock($1) as locked', [sealLockId]);
    if (!locked[0]!.locked) {
      await client.query('rollback');
      return undefined;
    }
    const { rows: heads } = await client.query<{ account_id: string; version: bigint; head_hash: string; changed: boolean }>(
      `select a.id as account_id, a.version, a.head_hash, s.account_id is null or s.version <> a.version as changed
         from accounts a left join ledger_sealed_heads s on s.account_id = a.id`,
    );
    const { rows: previous } = await client.query<{ root_hash: string }>('select root_hash from ledger_checkpoints order by id desc limit 1');
    const all = heads.map((row) => ({ accountId: row.account_id, version: row.version, headHash: row.head_hash }));
    const checkpoint = { root: rootOf(all), previousRoot: previous[0]?.root_hash ?? '', accounts: all.length };
    const { rows: inserted } = await client.query<{ id: bigint }>(
      `insert into ledger_checkpoints (accounts, root_hash, previous_root, signature) values ($1, $2, $3, $4) returning id`,
      [checkpoint.accounts, checkpoint.root, checkpoint.previousRoot, sign(key, checkpoint)],
    );
    const id = inserted[0]!.id;
    const changed = heads.filter((row) => row.changed);
    await client.query(
      `with changed as (select * from unnest($2::uuid[], $3::bigint[], $4::text[]) as c(account_id, version, head_hash)),
            recorded as (insert into ledger_checkpoint_heads (checkpoint_id, account_id, version, head_hash) select $1, * from changed)
       insert into ledger_sealed_heads (account_id, version, head_hash) select * from changed
       on conflict (account_id) do update set version = excluded.version, head_hash = excluded.head_hash`,
      [id, changed.map((row) => row.account_id), changed.map((row) => row.version.toString()), changed.map((row) => row.head_hash)],
    );
    await client.query('commit');
    return id;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export interface CheckpointMismatch {
  checkpointId: string;
  accountId?: string;
  detail: string;
}

/**
 * Replays every checkpoint: each recorded head must be the hash of the entry at that version as
 * stored now, each root must recompute from the heads, each checkpoint must link to the one
 * before and carry a valid signature.
 */
export async function verifyCheckpoints(pool: Pool, key: Buffer): Promise<{ checked: number; mismatches: CheckpointMismatch[] }> {
  const mismatches: CheckpointMismatch[] = [];
  const { rows: stale } = await pool.query<{ checkpoint_id: string; account_id: string; version: bigint }>(
    `select h.checkpoint_id::text, h.account_id, h.version
       from ledger_checkpoint_heads h
       left join entries e on e.account_id = h.account_id and e.version = h.version
      where h.head_hash <> coalesce(e.hash, '') or (h.version > 0 and e.hash is null)
      limit 100`,
  );
  for (const row of stale) mismatches.push({ checkpointId: row.checkpoint_id, accountId: row.account_id, detail: `sealed head at version ${row.version} no longer matches the entry stored there` });

  const { rows: checkpoints } = await pool.query<{ id: bigint; accounts: number; root_hash: string; previous_root: string; signature: string }>(
    'select id, accounts, root_hash, previous_root, signature from ledger_checkpoints order by id',
  );
  const { rows: deltas } = await pool.query<{ checkpoint_id: bigint; account_id: string; version: bigint; head_hash: string }>(
    'select checkpoint_id, account_id, version, head_hash from ledger_checkpoint_heads order by checkpoint_id',
  );
  const state = new Map<string, Head>();
  let cursor = 0;
  let previousRoot = '';
  for (const checkpoint of checkpoints) {
    for (; cursor < deltas.length && deltas[cursor]!.checkpoint_id === checkpoint.id; cursor++) {
      const delta = deltas[cursor]!;
      state.set(delta.account_id, { accountId: delta.account_id, version: delta.version, headHash: delta.head_hash });
    }
    const id = checkpoint.id.toString();
    const expected = sign(key, { root: checkpoint.root_hash, previousRoot: checkpoint.previous_root, accounts: checkpoint.accounts });
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(checkpoint.signature.padEnd(expected.length).slice(0, expected.length)))) {
      mismatches.push({ checkpointId: id, detail: 'the signature does not match: the checkpoint was not sealed by this ledger' });
    }
    if (checkpoint.previous_root !== previousRoot) mismatches.push({ checkpointId: id, detail: 'the checkpoint does not link to the one before it' });
    if (state.size !== checkpoint.accounts || rootOf(state.values()) !== checkpoint.root_hash) {
      mismatches.push({ checkpointId: id, detail: 'the root does not recompute from the recorded heads' });
    }
    previousRoot = checkpoint.root_hash;
  }
  return { checked: checkpoints.length, mismatches };
}

/** Seals every `intervalMs`; any instance may run it, one seals at a time. */
export function startSealer(pool: Pool, key: Buffer, intervalMs: number, onError: (error: unknown) => void): () => void {
  const timer = setInterval(() => void sealCheckpoint(pool, key).catch(onError), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
