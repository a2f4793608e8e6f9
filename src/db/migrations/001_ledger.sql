-- The ledger: currencies, users, accounts, transfers, append-only entries, idempotency, outbox.
-- Money is NUMERIC(38,0) minor units everywhere: wide enough for ETH at 18 decimals.

create table currencies (
  code text primary key check (code ~ '^[A-Z][A-Z0-9]{2,9}$'),
  name text not null,
  scale smallint not null check (scale between 0 and 18),
  kind text not null check (kind in ('fiat', 'crypto'))
);

insert into currencies (code, name, scale, kind) values
  ('USD', 'US Dollar', 2, 'fiat'),
  ('EUR', 'Euro', 2, 'fiat'),
  ('GBP', 'Pound Sterling', 2, 'fiat'),
  ('JPY', 'Japanese Yen', 0, 'fiat'),
  ('BTC', 'Bitcoin', 8, 'crypto'),
  ('ETH', 'Ether', 18, 'crypto');

create table users (
  id uuid primary key default gen_random_uuid(),
  username text not null check (length(username) between 1 and 64),
  password_hash text not null,
  name text not null,
  email text,
  national_id text,
  role text not null default 'customer' check (role in ('customer', 'operator', 'admin')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index users_username_key on users (lower(username));

-- User wallets and per-currency system accounts ('world:USD' is the other side of deposits and
-- withdrawals, so it may go negative: minus the money held in wallets).
create table accounts (
  id uuid primary key default gen_random_uuid(),
  kind text not null check (kind in ('wallet', 'system')),
  user_id uuid references users (id),
  name text,
  currency text not null references currencies (code),
  balance numeric(38, 0) not null default 0,
  pending_out numeric(38, 0) not null default 0,
  pending_in numeric(38, 0) not null default 0,
  -- Count of entries written; entry versions chain 1, 2, 3 … per account.
  version bigint not null default 0 check (version >= 0),
  -- Hash of the latest entry ('' before the first): the head of this account's hash chain.
  head_hash text not null default '',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, currency),
  check ((kind = 'wallet') = (user_id is not null)),
  check ((kind = 'system') = (name is not null)),
  constraint accounts_wallet_floor check (kind = 'system' or balance - pending_out >= 0),
  check (pending_out >= 0 and pending_in >= 0)
) with (fillfactor = 70); -- room on each page for HOT updates: balances change, indexed columns never do
create unique index accounts_wallet_key on accounts (user_id, currency) where kind = 'wallet';
create unique index accounts_system_key on accounts (name) where kind = 'system';

insert into accounts (kind, name, currency) select 'system', 'world:' || code, code from currencies;

create table transfers (
  id uuid primary key,
  -- Insertion order; keyset pagination of a wallet's transfers runs on it.
  seq bigint generated always as identity unique,
  kind text not null check (kind in ('transfer', 'deposit', 'withdrawal', 'reversal')),
  status text not null check (status in ('posted', 'pending', 'voided')),
  from_account_id uuid not null,
  to_account_id uuid not null,
  currency text not null,
  amount numeric(38, 0) not null check (amount > 0),
  captured_amount numeric(38, 0) not null default 0 check (captured_amount between 0 and amount),
  description text,
  metadata jsonb,
  reference text,
  expires_at timestamptz,
  -- Corrections are new transfers: a reversal names its original, and the original counts what
  -- was reversed, which can never exceed what was posted.
  reverses_transfer_id uuid references transfers (id),
  reversed_amount numeric(38, 0) not null default 0,
  -- Set when posted: commits to the transfer's two entries (see kassa_transfer_hash), found by
  -- their versions through the entries' primary key (no index on entries.transfer_id to feed).
  hash text,
  debit_version bigint,
  credit_version bigint,
  created_by uuid,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check (from_account_id <> to_account_id),
  check (status <> 'pending' or expires_at is not null), -- every open hold has a deadline
  check (reversed_amount between 0 and captured_amount),
  check ((kind = 'reversal') = (reverses_transfer_id is not null)),
  -- Both sides must hold the transfer's currency: enforced by the database, not only in code.
  foreign key (from_account_id, currency) references accounts (id, currency),
  foreign key (to_account_id, currency) references accounts (id, currency)
);
create index transfers_from_account on transfers (from_account_id, seq);
create index transfers_to_account on transfers (to_account_id, seq);
-- The expiry sweeper reads open holds by deadline, from rows, never from memory.
create index transfers_open_holds on transfers (expires_at) where status = 'pending';

-- Append-only. Entries are reached through their account, so the public id needs no index.
-- No foreign keys: the write function creates each entry in the same statement batch as its
-- transfer and under its account's lock, and per-row foreign-key checks cost a quarter of the
-- write path (measured). Ledger verification proves what they would: every entry's account
-- balance and chain, and every transfer's entries summing to zero.
create table entries (
  account_id uuid not null,
  version bigint not null check (version > 0),
  id uuid not null default gen_random_uuid(),
  transfer_id uuid not null,
  amount numeric(38, 0) not null check (amount <> 0),
  balance_after numeric(38, 0) not null,
  created_at timestamptz not null,
  -- Chains to the previous entry of the same account (kassa_entry_hash).
  hash text not null,
  primary key (account_id, version)
);
create index transfers_hash on transfers (hash) where hash is not null;

-- Tamper evidence without a global lock: each entry's hash covers its own fields and the hash of
-- the previous entry of the same account, which that account's row lock already serializes.
-- Rewriting any entry breaks its own hash or the next one's link; verification recomputes all.
create function kassa_entry_hash(p_previous text, p_account uuid, p_version bigint, p_transfer uuid,
                                 p_amount numeric, p_balance_after numeric, p_created_at timestamptz)
returns text language sql immutable parallel safe as $$
  select encode(sha256(convert_to(concat_ws('|', p_previous, p_account, p_version, p_transfer, p_amount, p_balance_after,
    to_char(p_created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')), 'UTF8')), 'hex')
$$;

-- A posted transfer's hash: its id and the hashes of its debit and credit entries.
create function kassa_transfer_hash(p_transfer uuid, p_debit_hash text, p_credit_hash text)
returns text language sql immutable parallel safe as $$
  select encode(sha256(convert_to(concat_ws('|', p_transfer, p_debit_hash, p_credit_hash), 'UTF8')), 'hex')
$$;
create index entries_account_time on entries (account_id, created_at);

create function kassa_reject_history_change() returns trigger language plpgsql as $$
begin
  raise exception 'entries are append-only: % is not allowed', tg_op using errcode = 'KS001';
end $$;
create trigger entries_append_only before update or delete on entries
  for each row execute function kassa_reject_history_change();
create trigger entries_no_truncate before truncate on entries
  for each statement execute function kassa_reject_history_change();

-- One row per (caller, key); response is null only while the first request's transaction is open.
create table idempotency_keys (
  scope text not null,
  key text not null check (length(key) between 1 and 255),
  fingerprint text not null,
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (scope, key)
);
create index idempotency_keys_created on idempotency_keys (created_at);

-- Events written in the same transaction as the change they describe.
create table outbox (
  position bigint generated always as identity primary key,
  id uuid not null default gen_random_uuid(),
  type text not null,
  wallet_ids uuid[] not null,
  data jsonb not null,
  -- Lets a relay read in commit order, not just position order (a slow transaction commits late).
  transaction_id xid8 not null default pg_current_xact_id(),
  created_at timestamptz not null default now()
);
