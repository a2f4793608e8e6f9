import type { Pool } from '../db/pool.ts';
import type { Wallet } from '../ledger/transfer.ts';
import { walletFromRow } from './wallets.ts';

export type Role = 'customer' | 'operator' | 'admin';

export interface User {
  id: string;
  username: string;
  name: string;
  email: string | null;
  nationalId: string | null;
  role: Role;
  createdAt: Date;
}

interface UserRow {
  id: string;
  username: string;
  name: string;
  email: string | null;
  national_id: string | null;
  role: Role;
  created_at: Date;
}

const userColumns = 'id, username, name, email, national_id, role, created_at';

function userFromRow(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    name: row.name,
    email: row.email,
    nationalId: row.national_id,
    role: row.role,
    createdAt: row.created_at,
  };
}

export interface NewUser {
  username: string;
  passwordHash: string;
  name: string;
  email?: string | undefined;
  nationalId?: string | undefined;
  role?: Role | undefined;
}

/**
 * Creates a user and its default wallet in one statement (so one transaction), and writes the
 * user.created and wallet.created events with them. Undefined when the username is taken.
 */
export async function createUserWithWallet(pool: Pool, user: NewUser, currency: string): Promise<{ user: User; wallet: Wallet } | undefined> {
  const { rows } = await pool.query<UserRow & { wallet_id: string; wallet_currency: string; wallet_created_at: Date }>(
    `with new_user as (
       insert into users (username, password_hash, name, email, national_id, role)
       values ($1, $2, $3, $4, $5, $6)
       on conflict ((lower(username))) do nothing
       returning ${userColumns}
     ), new_wallet as (
       insert into accounts (kind, user_id, currency) select 'wallet', id, $7 from new_user returning id, user_id, currency, created_at
     ), events as (
       insert into outbox (type, wallet_ids, data)
       select 'user.created', array[w.id], jsonb_build_object('user_id', u.id, 'username', u.username)
         from new_user u join new_wallet w on true
       union all
       select 'wallet.created', array[w.id], jsonb_build_object('wallet_id', w.id, 'user_id', w.user_id, 'currency', w.currency)
         from new_wallet w
     )
     select u.*, w.id as wallet_id, w.currency as wallet_currency, w.created_at as wallet_created_at
       from new_user u join new_wallet w on w.user_id = u.id`,
    [user.username, user.passwordHash, user.name, user.email ?? null, user.nationalId ?? null, user.role ?? 'customer', currency],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    user: userFromRow(row),
    wallet: walletFromRow({
      id: row.wallet_id,
      user_id: row.id,
      currency: row.wallet_currency,
      balance: 0n,
      pending_out: 0n,
      pending_in: 0n,
      created_at: row.wallet_created_at,
      updated_at: row.wallet_created_at,
    }),
  };
}

export async function getUser(pool: Pool, id: string): Promise<User | undefined> {
  const { rows } = await pool.query<UserRow>(`select ${userColumns} from users where id = $1`, [id]);
  return rows[0] && userFromRow(rows[0]);
}

export async function findUserForLogin(pool: Pool, username: string): Promise<(User & { passwordHash: string }) | undefined> {
  const { rows } = await pool.query<UserRow & { password_hash: string }>(
    `select ${userColumns}, password_hash from users where lower(username) = lower($1)`,
    [username],
  );
  const row = rows[0];
  return row && { ...userFromRow(row), passwordHash: row.password_hash };
}

export async function setUserRole(pool: Pool, id: string, role: Role): Promise<User | undefined> {
  const { rows } = await pool.query<UserRow>(`update users set role = $2, updated_at = now() where id = $1 returning ${userColumns}`, [id, role]);
  return rows[0] && userFromRow(rows[0]);
}

/** Creates the configured admin, or resets its password and role; never a default password. */
export async function upsertAdmin(pool: Pool, username: string, passwordHash: string, currency: string): Promise<void> {
  const { rowCount } = await pool.query(
    `update users set password_hash = $2, role = 'admin', updated_at = now() where lower(username) = lower($1)`,
    [username, passwordHash],
  );
  if (rowCount === 0) await createUserWithWallet(pool, { username, passwordHash, name: username, role: 'admin' }, currency);
}
