// Creates the benchmark's users and wallets straight in SQL (10,000 Argon2 sign-ups would take
// minutes and measure hashing, not the ledger) and funds them through the ledger's write path.
import type { Pool } from '../src/db/pool.ts';
import { hashPassword } from '../src/services/passwords.ts';
import { signAccessToken } from '../src/services/tokens.ts';
import { postTransfers } from '../src/store/transfers.ts';

export interface Party {
  userId: string;
  walletId: string;
  token: string;
}

export interface Seeded {
  wallets: Party[];
  operator: Party;
}

export async function seed(pool: Pool, jwtSecret: string, walletCount: number, fundingMinor: bigint): Promise<Seeded> {
  const passwordHash = await hashPassword('benchmark password');
  const { rows } = await pool.query<{ user_id: string; wallet_id: string; role: string }>(
    `with new_users as (
       insert into users (username, password_hash, name, role)
       select 'bench_' || n, $1, 'Bench ' || n, case when n = 0 then 'operator' else 'customer' end
         from generate_series(0, $2::int) n
       returning id, role),
     new_wallets as (insert into accounts (kind, user_id, currency) select 'wallet', id, 'USD' from new_users returning user_id, id)
     select w.user_id, w.id as wallet_id, u.role from new_wallets w join new_users u on u.id = w.user_id`,
    [passwordHash, walletCount],
  );
  const key = new TextEncoder().encode(jwtSecret);
  const parties = await Promise.all(
    rows.map(async (row) => ({
      userId: row.user_id,
      walletId: row.wallet_id,
      role: row.role,
      token: await signAccessToken(key, { userId: row.user_id, role: row.role === 'operator' ? 'operator' : 'customer' }),
    })),
  );
  const operator = parties.find((party) => party.role === 'operator')!;
  const wallets = parties.filter((party) => party.role !== 'operator');
  for (let start = 0; start < wallets.length; start += 1_000) {
    const chunk = wallets.slice(start, start + 1_000);
    await postTransfers(pool, [
      { transfers: chunk.map((party) => ({ kind: 'deposit' as const, toWalletId: party.walletId, amount: fundingMinor, currency: 'USD' })) },
    ]);
  }
  return { wallets, operator };
}
