-- Refresh tokens are stored only as SHA-256 hashes. Each login starts a family; every refresh
-- spends its token and issues the next one in the family. Presenting a spent token means it
-- leaked, so the whole family is revoked.
create table refresh_tokens (
  token_hash text primary key,
  family_id uuid not null,
  user_id uuid not null references users (id),
  expires_at timestamptz not null,
  spent_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
create index refresh_tokens_family on refresh_tokens (family_id);
create index refresh_tokens_expires on refresh_tokens (expires_at);
