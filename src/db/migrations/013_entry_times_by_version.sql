-- Entries by time without an index on time. Entry times are taken after the account's lock (every
-- version of the write function has), so they never decrease as the version grows: the last entry
-- before an instant is found by a binary search over the primary key, in log2(entries) probes.
-- The (account_id, created_at) index it replaces took two random-page inserts on every transfer:
-- ~8% of the write function's CPU (alternating runs on copies of a benchmark database), and as
-- much space as the primary key.
create function kassa_entry_version_before(p_account uuid, p_at timestamptz) returns bigint
language plpgsql stable as $$
declare
  v_low bigint := 0;  -- entry v_low was made before p_at (0: there is none)
  v_high bigint;      -- no entry after v_high was
  v_middle bigint;
  v_created_at timestamptz;
begin
  select version into v_high from entries where account_id = p_account order by version desc limit 1;
  v_high := coalesce(v_high, 0);
  while v_low < v_high loop
    v_middle := v_low + (v_high - v_low + 1) / 2;
    select created_at into v_created_at from entries where account_id = p_account and version = v_middle;
    if v_created_at < p_at then v_low := v_middle; else v_high := v_middle - 1; end if;
  end loop;
  return v_low;
end $$;

drop index entries_account_time;
