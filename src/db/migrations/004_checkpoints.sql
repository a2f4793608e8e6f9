-- Sealed checkpoints: each commits to every account's chain head (root), to the checkpoint before
-- it (previous_root), and is signed with a key the database never holds. Only the heads that
-- changed since the previous checkpoint are recorded; verification replays them.
create table ledger_checkpoints (
  id bigint generated always as identity primary key,
  created_at timestamptz not null default now(),
  accounts int not null,
  root_hash text not null,
  previous_root text not null,
  signature text not null
);

create table ledger_checkpoint_heads (
  checkpoint_id bigint not null references ledger_checkpoints (id),
  account_id uuid not null,
  version bigint not null,
  head_hash text not null,
  primary key (checkpoint_id, account_id)
);

-- The latest sealed head per account, so a seal records only what changed.
create table ledger_sealed_heads (
  account_id uuid primary key,
  version bigint not null,
  head_hash text not null
);
