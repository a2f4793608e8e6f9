-- kassa_post_transfers: the one money-moving write. One call = one round trip = one commit.
--
-- Input: a JSON array of requests (one per API call; coalescing puts many calls in one array):
--   { "idempotency": {"scope", "key", "fingerprint"} | null, "atomic": bool, "actor_id": uuid | null,
--     "request_id": text | null (kept in the stored response so that a replay is byte-identical),
--     "transfers": [{ "kind": "transfer"|"deposit"|"withdrawal", "from_wallet_id", "to_wallet_id",
--                     "to_username", "owner_id", "amount" (minor units, integer text), "currency",
--                     "description", "metadata", "reference" }] }
-- Output: one row per request: (request_index, outcome, response) where outcome is
--   'applied' | 'replayed' | 'key_reused' | 'key_in_use' and response is {"request_id", "results": [...]},
--   one result per transfer: {"transfer": {...}} or {"error": {"code", "detail"}}.
--
-- How it stays fast and safe:
--   1. idempotency keys are claimed first (insert … on conflict do nothing): a concurrent duplicate
--      waits for the first commit and then replays its stored response;
--   2. every static check (existence, ownership, currency, same wallet) is one set-based query;
--   3. all touched accounts are locked once, in ascending id order (no deadlock between batches);
--   4. transfers are applied in order against balances held in memory, so a hot account is
--      written once per batch instead of once per transfer;
--   5. transfers, entries, account balances, outbox events and idempotency responses are
--      written with one bulk statement each.
create function kassa_post_transfers(p_requests jsonb)
returns table (request_index int, outcome text, response jsonb)
language plpgsql
-- Every statement here has one shape whatever the batch, so plans are made once per connection;
-- custom plans would re-plan the resolution query on every call (measured: most of a small call).
set plan_cache_mode = force_generic_plan
as $$
declare
  v_now timestamptz;
  v_amount_max constant numeric := 99999999999999999999999999999999999999;
  -- per request
  r_count int := jsonb_array_length(p_requests);
  r_state text[];          -- null (no key) | new | replayed | key_reused | key_in_use
  r_stored jsonb[];
  r_atomic boolean[];
  r_failed boolean[];
  r_first int[];           -- first transfer slot of the request
  r_response jsonb[];
  -- per transfer, flattened across requests in request order
  t_request int[]; t_kind text[]; t_currency text[]; t_amount numeric[];
  t_from uuid[]; t_to uuid[]; t_from_pos int[]; t_to_pos int[];
  t_description text[]; t_metadata jsonb[]; t_reference text[]; t_actor uuid[];
  t_error text[]; t_detail text[];
  t_id uuid[]; t_applied boolean[];
  t_from_version bigint[]; t_to_version bigint[]; t_from_balance numeric[]; t_to_balance numeric[];
  t_result jsonb[];
  -- locked accounts, ascending id
  a_id uuid[]; a_is_wallet boolean[]; a_balance numeric[]; a_pending_out numeric[];
  a_version bigint[]; a_dirty boolean[];
  -- snapshot of account state at the start of an atomic request
  s_balance numeric[]; s_version bigint[]; s_dirty boolean[];
  v_claim record;
  v_existing record;
  n int; i int; j int; r int; f int; t int;
  v_current int := 0;
  v_account_ids uuid[];
begin
  if r_count is null or r_count = 0 then return; end if;

  select array_agg(x.atomic order by x.idx), array_agg(false order by x.idx)
    into r_atomic, r_failed
    from (select idx::int, coalesce((req->>'atomic')::boolean, false) as atomic
            from jsonb_array_elements(p_requests) with ordinality e(req, idx)) x;
  r_state := array_fill(null::text, array[r_count]);
  r_stored := array_fill(null::jsonb, array[r_count]);

  -- 1. Claim idempotency keys, in key order so that batches never deadlock on each other.
  for v_claim in
    select idx::int as idx, req->'idempotency'->>'scope' as scope, req->'idempotency'->>'key' as key,
           req->'idempotency'->>'fingerprint' as fingerprint
      from jsonb_array_elements(p_requests) with ordinality e(req, idx)
     where jsonb_typeof(req->'idempotency') = 'object'
     order by 2, 3, 1
  loop
    insert into idempotency_keys (scope, key, fingerprint)
    values (v_claim.scope, v_claim.key, v_claim.fingerprint)
    on conflict do nothing;
    if found then
      r_state[v_claim.idx] := 'new';
    else
      select k.fingerprint, k.response into v_existing
        from idempotency_keys k where k.scope = v_claim.scope and k.key = v_claim.key;
      r_state[v_claim.idx] := case
        when v_existing.fingerprint <> v_claim.fingerprint then 'key_reused'
        when v_existing.response is null then 'key_in_use'
        else 'replayed' end;
      r_stored[v_claim.idx] := v_existing.response;
    end if;
  end loop;

  -- 2. Flatten the transfers of the requests that will run and resolve every static check at once.
  select array_agg(s.request order by s.slot), array_agg(s.kind order by s.slot),
         array_agg(s.currency order by s.slot), array_agg(s.amount order by s.slot),
         array_agg(s.from_id order by s.slot), array_agg(s.to_id order by s.slot),
         array_agg(s.description order by s.slot), array_agg(s.metadata order by s.slot),
         array_agg(s.reference order by s.slot), array_agg(s.actor order by s.slot),
         array_agg(s.error order by s.slot),
         array_agg(case s.error
                     when 'user_not_found' then format('no user named %s', s.to_username)
                     when 'wallet_not_found' then case when s.to_user_id is not null and s.to_id is null
                       then format('recipient has no %s wallet', s.currency) end
                     when 'currency_mismatch' then format('transfer is in %s but the wallets hold %s and %s',
                       s.currency, s.from_currency, s.to_currency)
                     when 'invalid_amount' then 'amount must be a positive whole number of minor units'
                   end order by s.slot)
    into t_request, t_kind, t_currency, t_amount, t_from, t_to, t_description, t_metadata,
         t_reference, t_actor, t_error, t_detail
    from (
      select q.*,
        case
          when q.amount is null or q.amount <= 0 or q.amount <> trunc(q.amount) or q.amount > v_amount_max
            then 'invalid_amount'
          when q.system_id is null and q.kind <> 'transfer' then 'currency_not_found'
          when q.from_id is null then 'wallet_not_found'
          when q.owner is not null and q.owner is distinct from q.owner_of_user_side then 'wallet_not_found'
          when q.to_username is not null and q.to_user_id is null then 'user_not_found'
          when q.to_id is null then 'wallet_not_found'
          when q.from_currency <> q.currency or q.to_currency <> q.currency then 'currency_mismatch'
          when q.from_id = q.to_id then 'same_wallet'
        end as error
      from (
        select row_number() over (order by e.idx, x.slot) as slot, e.idx as request,
               x.item->>'kind' as kind, x.item->>'currency' as currency,
               case when x.item->>'amount' ~ '^[0-9]{1,40}$' then (x.item->>'amount')::numeric end as amount,
               (x.item->>'owner_id')::uuid as owner,
               x.item->>'to_username' as to_username, tu.id as to_user_id,
               x.item->>'description' as description, x.item->'metadata' as metadata,
               x.item->>'reference' as reference, e.actor,
               sys.id as system_id,
               case x.item->>'kind' when 'deposit' then sys.id else fw.id end as from_id,
               case x.item->>'kind' when 'deposit' then sys.currency else fw.currency end as from_currency,
               case when x.item->>'kind' = 'withdrawal' then sys.id
                    when x.item ? 'to_username' and x.item->>'to_username' is not null then uw.id
                    else tw.id end as to_id,
               case when x.item->>'kind' = 'withdrawal' then sys.currency
                    when x.item ? 'to_username' and x.item->>'to_username' is not null then uw.currency
                    else tw.currency end as to_currency,
               case x.item->>'kind' when 'deposit' then tw.user_id else fw.user_id end as owner_of_user_side
          -- Requests are unpacked first (offset 0 keeps the planner from merging this in), so the
          -- sort below carries one small item per row, never the whole request document.
          from (select idx::int as idx, (req->>'actor_id')::uuid as actor, req->'transfers' as transfers
                  from jsonb_array_elements(p_requests) with ordinality r(req, idx)
                 where r_state[idx::int] is null or r_state[idx::int] = 'new'
                offset 0) e
          cross join lateral jsonb_array_elements(e.transfers) with ordinality x(item, slot)
          -- One index probe per item, whatever the size of the ledger or its statistics: a lateral
          -- subquery with a limit cannot be flattened into a join, which the planner would hash
          -- over whole tables (measured: O(accounts) per call when statistics lag a bulk load).
          left join lateral (select id, currency from accounts
                              where kind = 'system' and name = 'world:' || (x.item->>'currency') limit 1) sys on true
          left join lateral (select id, currency, user_id from accounts
                              where id = (x.item->>'from_wallet_id')::uuid and kind = 'wallet' limit 1) fw on true
          left join lateral (select id, currency, user_id from accounts
                              where id = (x.item->>'to_wallet_id')::uuid and kind = 'wallet' limit 1) tw on true
          left join lateral (select id from users
                              where lower(username) = lower(x.item->>'to_username') limit 1) tu on true
          left join lateral (select id, currency from accounts
                              where user_id = tu.id and currency = (x.item->>'currency') and kind = 'wallet' limit 1) uw on true
      ) q
    ) s;

  n := coalesce(array_length(t_request, 1), 0);

  -- 3. Lock every account the batch can touch, once, in ascending id order.
  select array_agg(distinct id order by id) into v_account_ids
    from unnest(t_from || t_to) id where id is not null;
  select array_agg(l.id order by l.id), array_agg(l.kind = 'wallet' order by l.id),
         array_agg(l.balance order by l.id), array_agg(l.pending_out order by l.id),
         array_agg(l.version order by l.id)
    into a_id, a_is_wallet, a_balance, a_pending_out, a_version
    from (select a.id, a.kind, a.balance, a.pending_out, a.version
            from accounts a
           where a.id = any(v_account_ids)
           order by a.id
             for update) l;
  v_now := clock_timestamp();  -- after the locks: entry times are monotonic per account
  a_dirty := array_fill(false, array[coalesce(array_length(a_id, 1), 0)]);

  select array_agg(fp.pos order by u.slot), array_agg(tp.pos order by u.slot)
    into t_from_pos, t_to_pos
    from unnest(t_from, t_to) with ordinality u(from_id, to_id, slot)
    left join unnest(a_id) with ordinality fp(id, pos) on fp.id = u.from_id
    left join unnest(a_id) with ordinality tp(id, pos) on tp.id = u.to_id;

  t_id := array_fill(null::uuid, array[n]);
  t_applied := array_fill(false, array[n]);
  t_from_version := array_fill(null::bigint, array[n]);
  t_to_version := array_fill(null::bigint, array[n]);
  t_from_balance := array_fill(null::numeric, array[n]);
  t_to_balance := array_fill(null::numeric, array[n]);
  t_result := array_fill(null::jsonb, array[n]);
  r_first := array_fill(null::int, array[r_count]);

  -- 4. Apply in order against the in-memory balances.
  for i in 1 .. n loop
    r := t_request[i];
    if r <> v_current then
      v_current := r;
      r_first[r] := i;
      if r_atomic[r] then
        s_balance := a_balance; s_version := a_version; s_dirty := a_dirty;
      end if;
    end if;

    if r_failed[r] then
      if t_error[i] is null then
        t_error[i] := 'batch_aborted';
        t_detail[i] := 'another transfer of this atomic batch failed';
      end if;
    elsif t_error[i] is null then
      f := t_from_pos[i]; t := t_to_pos[i];
      if a_is_wallet[f] and a_balance[f] - a_pending_out[f] < t_amount[i] then
        t_error[i] := 'insufficient_funds';
        t_detail[i] := 'the available balance of the source wallet is less than the amount';
      else
        a_balance[f] := a_balance[f] - t_amount[i];
        a_version[f] := a_version[f] + 1;
        a_dirty[f] := true;
        a_balance[t] := a_balance[t] + t_amount[i];
        a_version[t] := a_version[t] + 1;
        a_dirty[t] := true;
        t_id[i] := gen_random_uuid();
        t_applied[i] := true;
        t_from_version[i] := a_version[f]; t_from_balance[i] := a_balance[f];
        t_to_version[i] := a_version[t];   t_to_balance[i] := a_balance[t];
      end if;
    end if;

    if t_error[i] is not null and r_atomic[r] and not r_failed[r] then
      -- All or nothing: restore the balances and undo what this request applied so far.
      r_failed[r] := true;
      a_balance := s_balance; a_version := s_version; a_dirty := s_dirty;
      for j in r_first[r] .. i - 1 loop
        t_applied[j] := false; t_id[j] := null;
        t_error[j] := 'batch_aborted';
        t_detail[j] := 'another transfer of this atomic batch failed';
      end loop;
    end if;
  end loop;

  -- 5. Results, then every write in bulk.
  for i in 1 .. n loop
    if t_applied[i] then
      t_result[i] := jsonb_build_object('transfer', jsonb_build_object(
        'id', t_id[i], 'kind', t_kind[i], 'status', 'posted',
        'from_wallet_id', case when t_kind[i] = 'deposit' then null else t_from[i] end,
        'to_wallet_id', case when t_kind[i] = 'withdrawal' then null else t_to[i] end,
        'amount', t_amount[i]::text, 'captured_amount', t_amount[i]::text, 'currency', t_currency[i],
        'description', t_description[i], 'metadata', t_metadata[i], 'reference', t_reference[i],
        'expires_at', null, 'hash', null, 'created_at', v_now, 'updated_at', v_now));
    else
      t_result[i] := jsonb_build_object('error', jsonb_strip_nulls(jsonb_build_object(
        'code', t_error[i], 'detail', t_detail[i])));
    end if;
  end loop;

  insert into transfers (id, kind, status, from_account_id, to_account_id, currency, amount,
                         captured_amount, description, metadata, reference, created_by,
                         created_at, updated_at)
  select u.id, u.kind, 'posted', u.from_id, u.to_id, u.currency, u.amount, u.amount,
         u.description, u.metadata, u.reference, u.actor, v_now, v_now
    from unnest(t_id, t_kind, t_from, t_to, t_currency, t_amount, t_description, t_metadata,
                t_reference, t_actor, t_applied)
         as u(id, kind, from_id, to_id, currency, amount, description, metadata, reference, actor, applied)
   where u.applied;

  insert into entries (account_id, version, transfer_id, amount, balance_after, created_at)
  select side.account_id, side.version, u.id, side.amount, side.balance_after, v_now
    from unnest(t_id, t_from, t_to, t_amount, t_from_version, t_to_version, t_from_balance,
                t_to_balance, t_applied)
         as u(id, from_id, to_id, amount, from_version, to_version, from_balance, to_balance, applied)
    cross join lateral (values (u.from_id, u.from_version, -u.amount, u.from_balance),
                               (u.to_id, u.to_version, u.amount, u.to_balance))
         as side(account_id, version, amount, balance_after)
   where u.applied;

  update accounts a
     set balance = s.balance, version = s.version, updated_at = v_now
    from unnest(a_id, a_balance, a_version, a_dirty) as s(id, balance, version, dirty)
   where a.id = s.id and s.dirty;

  insert into outbox (type, wallet_ids, data)
  select u.kind || '.created',
         array_remove(array[case when u.kind = 'deposit' then null else u.from_id end,
                            case when u.kind = 'withdrawal' then null else u.to_id end], null),
         u.result->'transfer'
    from unnest(t_kind, t_from, t_to, t_result, t_applied) as u(kind, from_id, to_id, result, applied)
   where u.applied;

  select array_agg(jsonb_build_object('request_id', p_requests->(q.idx - 1)->'request_id',
                                      'results', coalesce(g.results, '[]'::jsonb)) order by q.idx)
    into r_response
    from generate_series(1, r_count) q(idx)
    left join (select u.request, jsonb_agg(u.result order by u.slot) as results
                 from unnest(t_request, t_result) with ordinality u(request, result, slot)
                group by u.request) g on g.request = q.idx;

  update idempotency_keys k
     set response = r_response[c.idx]
    from (select idx::int as idx, req->'idempotency'->>'scope' as scope, req->'idempotency'->>'key' as key
            from jsonb_array_elements(p_requests) with ordinality e(req, idx)) c
   where r_state[c.idx] = 'new' and k.scope = c.scope and k.key = c.key;

  return query
    select q.idx, coalesce(case r_state[q.idx] when 'new' then 'applied' else r_state[q.idx] end, 'applied'),
           case when r_state[q.idx] = 'replayed' then r_stored[q.idx]
                when r_state[q.idx] in ('key_reused', 'key_in_use') then null
                else r_response[q.idx] end
      from generate_series(1, r_count) q(idx);
end $$;
