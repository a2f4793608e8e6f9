-- Both sides of a transfer must exist and hold its currency: still enforced by the database, but
-- once per statement instead of by two foreign keys, whose per-row checks cost ~20 µs of a
-- ~250 µs transfer in the write function (measured per phase in 64-request batches). What the
-- foreign keys also gave, that a referenced account never changes currency or disappears, is
-- kept by the triggers below.
alter table transfers
  drop constraint transfers_from_account_id_currency_fkey,
  drop constraint transfers_to_account_id_currency_fkey;

create function kassa_check_transfer_accounts() returns trigger language plpgsql
-- By index, however few accounts there were when a connection first planned this.
set enable_seqscan = off as $$
begin
  -- One index probe per side (a lateral with a limit is never turned into a hash join that
  -- reads every account).
  if exists (
    select 1 from new_transfers t
      left join lateral (select a.currency from accounts a where a.id = t.from_account_id limit 1) f on true
      left join lateral (select a.currency from accounts a where a.id = t.to_account_id limit 1) g on true
     where f.currency is distinct from t.currency or g.currency is distinct from t.currency
  ) then
    raise exception 'both accounts of a transfer must exist and hold its currency' using errcode = '23503';
  end if;
  return null;
end $$;
create trigger transfers_accounts_hold_currency after insert on transfers
  referencing new table as new_transfers for each statement execute function kassa_check_transfer_accounts();

create function kassa_reject_change() returns trigger language plpgsql as $$
begin
  raise exception '% never change', tg_argv[0] using errcode = 'KS002';
end $$;
-- Fires only for statements that name these columns; the write function never does.
create trigger transfers_sides_fixed before update of from_account_id, to_account_id, currency on transfers
  for each row execute function kassa_reject_change('a transfer''s accounts and currency');
create trigger accounts_identity_fixed before update of id, currency or delete on accounts
  for each row execute function kassa_reject_change('an account''s id and currency, and the account itself,');
