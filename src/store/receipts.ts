import type { Pool } from '../db/pool.ts';

export interface Receipt {
  hash: string;
  kind: string;
  status: string;
  amount: bigint;
  currency: string;
  createdAt: Date;
  /** The hash recomputes from the stored transfer's entries, and each entry from its own fields and predecessor. */
  verified: boolean;
}

export async function findReceipt(pool: Pool, hash: string): Promise<Receipt | undefined> {
  const { rows } = await pool.query<{ hash: string; kind: string; status: string; amount: bigint; currency: string; created_at: Date; verified: boolean }>(
    `select t.hash, t.kind, t.status, t.captured_amount as amount, t.currency, t.created_at,
            coalesce(count(e.*) = 2
              and bool_and(e.transfer_id = t.id and e.hash = kassa_entry_hash(coalesce(previous.hash, ''), e.account_id, e.version,
                                                                             e.transfer_id, e.amount, e.balance_after, e.created_at))
              and t.hash = kassa_transfer_hash(t.id, min(e.hash) filter (where e.amount < 0), min(e.hash) filter (where e.amount > 0)),
              false) as verified
       from transfers t
       left join entries e on (e.account_id, e.version) in ((t.from_account_id, t.debit_version), (t.to_account_id, t.credit_version))
       left join entries previous on previous.account_id = e.account_id and previous.version = e.version - 1
      where substr(t.hash, 1, 16) = substr($1, 1, 16) and t.hash = $1 -- the index holds the prefix
      group by t.id`,
    [hash],
  );
  const row = rows[0];
  return row && { hash: row.hash, kind: row.kind, status: row.status, amount: row.amount, currency: row.currency, createdAt: row.created_at, verified: row.verified };
}
