-- The write function hashes every entry of a call at one instant, and formatting that instant
-- (to_char) for each of them was ~1% of its instructions. kassa_entry_hash_at takes the instant
-- already formatted by kassa_hash_time; kassa_entry_hash, which verification and receipts use,
-- is the two together, so the chain's formula is still written once. All three are inlined.
create function kassa_hash_time(p_at timestamptz) returns text language sql stable parallel safe as $$
  select to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

create function kassa_entry_hash_at(p_previous text, p_account uuid, p_version bigint, p_transfer uuid,
                                    p_amount numeric, p_balance_after numeric, p_created_at text)
returns text language sql stable parallel safe as $$
  select encode(sha256(convert_to(concat_ws('|', p_previous, p_account, p_version, p_transfer, p_amount, p_balance_after,
    p_created_at), 'UTF8')), 'hex')
$$;

create or replace function kassa_entry_hash(p_previous text, p_account uuid, p_version bigint, p_transfer uuid,
                                            p_amount numeric, p_balance_after numeric, p_created_at timestamptz)
returns text language sql stable parallel safe as $$
  select kassa_entry_hash_at(p_previous, p_account, p_version, p_transfer, p_amount, p_balance_after, kassa_hash_time(p_created_at))
$$;
