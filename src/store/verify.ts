import type { Pool } from '../db/pool.ts';
import { verifyCheckpoints } from '../services/sealer.ts';

export interface Mismatch {
  kind:
    | 'currency_not_balanced'
    | 'balance_not_sum_of_entries'
    | 'entry_chain_broken'
    | 'transfer_not_balanced'
    | 'negative_wallet'
    | 'pending_not_open_holds'
    | 'entry_hash_mismatch'
    | 'head_hash_mismatch'
    | 'transfer_hash_mismatch'
    | 'checkpoint_mismatch';
  account_id?: string;
  transfer_id?: string;
  currency?: string;
  detail: string;
}

export interface Verification {
  ok: boolean;
  checkedAt: Date;
  currencies: { code: string; total: bigint }[];
  accountsChecked: number;
  mismatches: Mismatch[];
  /** The hash chains: every entry re-hashed from its fields and its predecessor, every head and transfer hash. */
  chain: { ok: boolean; entriesChecked: number; checkpointsChecked: number };
}

const mismatchesMax = 100;

/** Proves the ledger from its rows: every check is a full scan, meant for audits and tests. */
export async function verifyLedger(pool: Pool, options: { sealKey?: Buffer } = {}): Promise<Verification> {
  const checkedAt = new Date();
  const totals = await pool.query<{ code: string; total: bigint; accounts: bigint }>(
    `select c.code, coalesce(sum(a.balance), 0) as total, count(a.id) as accounts
       from currencies c left join accounts a on a.currency = c.code group by c.code order by c.code`,
  );
  const mismatches: Mismatch[] = totals.rows
    .filter((row) => row.total !== 0n)
    .map((row) => ({ kind: 'currency_not_balanced', currency: row.code, detail: `balances sum to ${row.total}, not 0` }));

  const accounts = await pool.query<{ account_id: string; detail: string; kind: Mismatch['kind'] }>(
    `select a.id as account_id, 'balance_not_sum_of_entries' as kind,
            format('balance %s, entries sum %s, version %s, entries %s', a.balance, coalesce(e.total, 0), a.version, coalesce(e.count, 0)) as detail
       from accounts a
       left join (select account_id, sum(amount) as total, count(*) as count from entries group by account_id) e on e.account_id = a.id
      where a.balance <> coalesce(e.total, 0) or a.version <> coalesce(e.count, 0)
     union all
     select account_id, 'entry_chain_broken',
            format('entry version %s: previous balance %s + amount %s <> balance_after %s', version, previous, amount, balance_after)
       from (select account_id, version, amount, balance_after,
                    lag(balance_after, 1, 0::numeric) over w as previous,
                    lag(version, 1, 0::bigint) over w as previous_version
               from entries window w as (partition by account_id order by version)) chain
      where previous + amount <> balance_after or previous_version <> version - 1
     union all
     select id, 'negative_wallet', format('available balance %s', balance - pending_out)
       from accounts where kind = 'wallet' and balance - pending_out < 0
     union all
     select a.id, 'pending_not_open_holds',
            format('pending out %s / in %s, open holds out %s / in %s', a.pending_out, a.pending_in, coalesce(held_out.total, 0), coalesce(held_in.total, 0))
       from accounts a
       left join (select from_account_id as id, sum(amount) as total from transfers where status = 'pending' group by 1) held_out on held_out.id = a.id
       left join (select to_account_id as id, sum(amount) as total from transfers where status = 'pending' group by 1) held_in on held_in.id = a.id
      where a.pending_out <> coalesce(held_out.total, 0) or a.pending_in <> coalesce(held_in.total, 0)
     limit ${mismatchesMax}`,
  );
  mismatches.push(...accounts.rows);

  const transfers = await pool.query<{ transfer_id: string; detail: string }>(
    `select t.id as transfer_id, format('entries sum to %s over %s entries', coalesce(sum(e.amount), 0), count(e.*)) as detail
       from transfers t left join entries e on e.transfer_id = t.id
      where t.status = 'posted'
      group by t.id having coalesce(sum(e.amount), 0) <> 0 or count(e.*) <> 2
      limit ${mismatchesMax}`,
  );
  mismatches.push(...transfers.rows.map((row) => ({ kind: 'transfer_not_balanced' as const, ...row })));

  const chain = await pool.query<{ account_id?: string; transfer_id?: string; kind: Mismatch['kind']; detail: string }>(
    `select account_id::text, null::text as transfer_id, 'entry_hash_mismatch' as kind,
            format('entry version %s does not hash to its stored hash', version) as detail
       from (select e.*, lag(hash, 1, '') over (partition by account_id order by version) as previous from entries e) linked
      where hash <> kassa_entry_hash(previous, account_id, version, transfer_id, amount, balance_after, created_at)
     union all
     select a.id::text, null, 'head_hash_mismatch', 'the account head is not the hash of its latest entry'
       from accounts a
       left join lateral (select hash from entries e where e.account_id = a.id order by version desc limit 1) latest on true
      where a.head_hash <> coalesce(latest.hash, '')
     union all
     select null, t.id::text, 'transfer_hash_mismatch', 'the transfer hash does not commit to its entries'
       from transfers t
       left join entries debit on debit.account_id = t.from_account_id and debit.version = t.debit_version
       left join entries credit on credit.account_id = t.to_account_id and credit.version = t.credit_version
      where t.hash is not null
        and (debit.transfer_id is distinct from t.id or credit.transfer_id is distinct from t.id
             or t.hash <> kassa_transfer_hash(t.id, debit.hash, credit.hash))
     limit ${mismatchesMax}`,
  );
  const chainMismatches = chain.rows.map((row) => ({
    kind: row.kind,
    detail: row.detail,
    ...(row.account_id ? { account_id: row.account_id } : {}),
    ...(row.transfer_id ? { transfer_id: row.transfer_id } : {}),
  }));
  // Signed checkpoints catch even a rewrite that recomputes the chain: the sealed heads no longer match.
  const checkpoints = options.sealKey ? await verifyCheckpoints(pool, options.sealKey) : { checked: 0, mismatches: [] };
  for (const mismatch of checkpoints.mismatches) {
    chainMismatches.push({
      kind: 'checkpoint_mismatch',
      detail: `checkpoint ${mismatch.checkpointId}: ${mismatch.detail}`,
      ...(mismatch.accountId ? { account_id: mismatch.accountId } : {}),
    });
  }
  mismatches.push(...chainMismatches);
  const { rows: entryCount } = await pool.query<{ count: bigint }>('select count(*) from entries');

  return {
    chain: { ok: chainMismatches.length === 0, entriesChecked: Number(entryCount[0]!.count), checkpointsChecked: checkpoints.checked },
    ok: mismatches.length === 0,
    checkedAt,
    currencies: totals.rows.map((row) => ({ code: row.code, total: row.total })),
    accountsChecked: totals.rows.reduce((sum, row) => sum + Number(row.accounts), 0),
    mismatches,
  };
}
