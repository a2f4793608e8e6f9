-- kassa_post_transfers: the whole money path in one call, one round trip and one commit.
--
-- Takes a batch of requests (each a single transfer or an API batch, with its optional
-- idempotency key) as one array per field (store/transfers.ts, writeColumns), and returns one row
-- per request. In order:
--   1. looks up the requests' idempotency keys (a replay returns the stored response);
--   2. resolves every item's wallets, users and referenced holds in one query;
--   3. locks every account the batch touches once, in ascending id order (no deadlocks);
--   4. applies the items in order against the balances in memory (insufficient funds, holds,
--      captures, reversals, atomic requests), extending each account's hash chain;
--   5. writes transfers, entries, balances, events and the idempotency keys in bulk.
--
-- This file is the function as it is now: it is applied whenever it changes, after the numbered
-- migrations (src/db/migrate.ts). 002 and 006 hold its earlier versions. Versions with other
-- parameters are dropped first, in the same transaction, so callers never find it missing: it
-- took one jsonb document until the arrays below replaced it (the server receives them in binary
-- and parses no text; reading the document cost ~6 µs a transfer more).

-- The ids one call writes (transfers, entries, events) are UUIDv7s of the call's instant whose
-- last 62 bits count up from one random draw (RFC 9562, 6.2, the monotonic random method): a
-- random draw per id (gen_random_uuid, OpenSSL's RAND per call) was ~2 µs, and a transfer needs
-- four. p_prefix is the first 16 hex digits (instant, version, 12 random bits), p_bits the last 64
-- bits before counting (variant 10, bit 61 clear so that counting never reaches the variant).
-- Ids within a call are consecutive; they are names, not secrets: every read checks who asks.
-- (kassa_uuid_v7, migration 010, drew one per id and is no longer called.)
-- A one-line SQL function: PostgreSQL inlines it into the statements that call it.
create or replace function kassa_counted_uuid(p_prefix text, p_bits bigint, p_count bigint)
returns uuid language sql immutable parallel safe as $$
  select (p_prefix || to_hex(p_bits + p_count))::uuid
$$;

drop function if exists kassa_post_transfers(jsonb);
create or replace function kassa_post_transfers(
  -- per request, in order: its id (answered back), actor, all-or-nothing, and idempotency key
  p_request_id text[], p_actor uuid[], p_atomic boolean[],
  p_key_scope text[], p_key text[], p_key_fingerprint text[],
  -- per item, flattened across requests in request order: its request (counted from 1), fields
  p_request int[], p_kind text[], p_from_wallet uuid[], p_to_wallet uuid[], p_to_username text[],
  p_owner uuid[], p_amount text[], p_currency text[], p_description text[], p_metadata jsonb[],
  p_reference text[], p_hold boolean[], p_expires_in int[], p_transfer uuid[])
returns table (request_index int, outcome text, response json)
language plpgsql
-- Every statement here has one shape whatever the batch, so plans are made once per connection;
-- custom plans would re-plan the resolution query on every call (measured: most of a small call).
set plan_cache_mode = force_generic_plan
-- Every table here is reached by index. A plan made once per connection must not be made for the
-- size a table had then: planned against a just-created (empty) idempotency_keys, the key lookup
-- became a sequential scan per key, which the growing table made 3x slower within 20 seconds.
set enable_seqscan = off
as $$
declare
  v_now timestamptz;
  v_now_json text;
  v_now_hashed text;       -- the instant as entry hashes take it
  v_id_random bytea;       -- the call's one random draw for its ids
  v_id_prefix text;        -- kassa_counted_uuid: transfer i is count i, its event n + i,
  v_id_bits bigint;        --   its entries 2n + 2i - 1 and 2n + 2i
  v_amount_max constant numeric := 99999999999999999999999999999999999999;
  -- per request
  r_count int := cardinality(p_atomic);
  r_state text[];          -- null (no key) | new | replayed | key_reused | key_in_use
  r_stored json[];
  r_atomic boolean[];
  r_failed boolean[];
  r_first int[];           -- first item slot of the request
  r_last int[];            -- last item slot of the request
  r_response json[];
  -- per item, flattened across requests in request order
  t_request int[]; t_kind text[]; t_currency text[]; t_amount numeric[];
  t_from uuid[]; t_to uuid[]; t_from_pos int[]; t_to_pos int[];
  t_description text[]; t_metadata jsonb[]; t_reference text[]; t_actor uuid[];
  t_hold boolean[]; t_expires_in int[]; t_ref uuid[];
  t_error text[]; t_detail text[];
  t_id uuid[]; t_applied boolean[]; t_posts boolean[];
  t_status text[]; t_captured numeric[]; t_expires_at timestamptz[];
  t_from_version bigint[]; t_to_version bigint[]; t_from_balance numeric[]; t_to_balance numeric[];
  t_from_hash text[]; t_to_hash text[]; t_hash text[];
  t_transfer json[];       -- the transfer as the response and its event show it
  t_result json[];
  -- the referenced hold's state, read after the locks
  h_status text[]; h_amount numeric[]; h_expires_at timestamptz[]; h_snapshot jsonb[]; h_reversible numeric[];
  -- locked accounts, ascending id
  a_id uuid[]; a_ctid tid[]; a_is_wallet boolean[]; a_balance numeric[]; a_pending_out numeric[]; a_pending_in numeric[];
  a_version bigint[]; a_head text[]; a_dirty boolean[];
  -- state at the start of an atomic request
  s_balance numeric[]; s_pending_out numeric[]; s_pending_in numeric[]; s_version bigint[]; s_head text[]; s_dirty boolean[];
  s_resolved uuid[];
  v_resolved uuid[] := '{}';  -- holds resolved earlier in this batch
  n int; i int; j int; r int; f int; t int;
  v_held numeric;
  v_reversible numeric;
  v_post boolean;
  v_current int := 0;
  v_has_refs boolean;      -- some item captures, voids, expires or reverses an earlier transfer
begin
  if r_count is null or r_count = 0 then return; end if;
  -- Arrays of one kind have one length (store/transfers.ts builds them from one list): unnest()s of
  -- different lengths would pad the shorter with NULLs, silently. A caller's bug stops here.
  if array[cardinality(p_request_id), cardinality(p_actor), cardinality(p_key_scope), cardinality(p_key),
           cardinality(p_key_fingerprint)] <> array_fill(r_count, array[5])
     or array[cardinality(p_kind), cardinality(p_from_wallet), cardinality(p_to_wallet), cardinality(p_to_username),
              cardinality(p_owner), cardinality(p_amount), cardinality(p_currency), cardinality(p_description),
              cardinality(p_metadata), cardinality(p_reference), cardinality(p_hold), cardinality(p_expires_in),
              cardinality(p_transfer)] <> array_fill(cardinality(p_request), array[13]) then
    raise exception 'kassa_post_transfers takes arrays of one length per request and one per item'
      using errcode = '22023';  -- invalid_parameter_value
  end if;

  -- 1. Look up idempotency keys. A key is written only at the end, with its response, so a key
  --    found here has a response to replay (or belongs to a different body: key_reused). The same
  --    key twice in one batch: the later request is in use (or reused, if its body differs).
  --    A concurrent request with the same key that commits first is caught by the final insert.
  --    Aggregates here and below read a subquery sorted once (an ORDER BY inside each of several
  --    aggregates sorts once per aggregate on PostgreSQL 15).
  select array_agg(c.atomic), array_agg(false), array_agg(c.state), array_agg(c.response)
    into r_atomic, r_failed, r_state, r_stored
    from (select c.atomic,
                 case when c.key is null then null
                      when k.scope is not null then
                        case when k.fingerprint <> c.fingerprint then 'key_reused'
                             when k.response is null then 'key_in_use' else 'replayed' end
                      when c.idx <> c.first_idx then
                        case when c.fingerprint <> c.first_fingerprint then 'key_reused' else 'key_in_use' end
                      else 'new' end as state,
                 k.response
            from (select e.idx, coalesce(e.atomic, false) as atomic, e.scope, e.key, e.fingerprint,
                         first_value(e.idx) over w as first_idx,
                         first_value(e.fingerprint) over w as first_fingerprint
                    from (select unnest(p_atomic) as atomic, unnest(p_key_scope) as scope, unnest(p_key) as key,
                                 unnest(p_key_fingerprint) as fingerprint, generate_series(1, r_count) as idx) e
                  window w as (partition by e.scope, e.key order by e.idx)) c
            -- One index probe per key (a lateral with a limit is never hashed over the whole table,
            -- which a plan made while the table was small would do forever after).
            left join lateral (select k.scope, k.fingerprint, k.response from idempotency_keys k
                                where k.scope = c.scope and k.key = c.key limit 1) k on true
           order by c.idx) c;

  -- 2. Flatten the items of the requests that will run and resolve every static check at once.
  select array_agg(s.request), array_agg(s.kind),
         array_agg(s.currency), array_agg(s.amount),
         array_agg(s.from_id), array_agg(s.to_id),
         array_agg(s.description), array_agg(s.metadata),
         array_agg(s.reference), array_agg(s.actor),
         array_agg(s.hold), array_agg(s.expires_in),
         array_agg(s.ref), array_agg(s.error),
         array_agg(case s.error
                     when 'user_not_found' then format('no user named %s', s.to_username)
                     when 'wallet_not_found' then case when s.to_user_id is not null and s.to_id is null
                       then format('recipient has no %s wallet', s.currency) end
                     when 'currency_mismatch' then format('transfer is in %s but the wallets hold %s and %s',
                       s.currency, s.from_currency, s.to_currency)
                     when 'invalid_amount' then 'amount must be a positive whole number of minor units'
                   end)
    into t_request, t_kind, t_currency, t_amount, t_from, t_to, t_description, t_metadata,
         t_reference, t_actor, t_hold, t_expires_in, t_ref, t_error, t_detail
    from (
      select q.*,
        case
          when q.is_hold_resolution or q.kind = 'reversal' then
            case when q.ref is null or (q.owner is not null and q.owner is distinct from q.hold_owner)
                      or (q.is_hold_resolution and q.ref_kind <> 'transfer') or q.ref_kind = 'reversal' then 'transfer_not_found'
                 when q.amount_text is not null and (q.amount is null or q.amount <= 0 or q.amount > v_amount_max) then 'invalid_amount'
            end
          when q.amount is null or q.amount <= 0 or q.amount > v_amount_max then 'invalid_amount'
          when q.hold and (q.kind <> 'transfer' or coalesce(q.expires_in, 0) <= 0) then 'validation_failed'
          when q.system_id is null and q.kind <> 'transfer' then 'currency_not_found'
          when q.from_id is null then 'wallet_not_found'
          when q.owner is not null and q.owner is distinct from q.owner_of_user_side then 'wallet_not_found'
          when q.to_username is not null and q.to_user_id is null then 'user_not_found'
          when q.to_id is null then 'wallet_not_found'
          when q.from_currency <> q.currency or q.to_currency <> q.currency then 'currency_mismatch'
          when q.from_id = q.to_id then 'same_wallet'
        end as error
      from (
        select x.slot, x.request,
               x.kind, x.kind in ('capture', 'void', 'expire') as is_hold_resolution,
               coalesce(h.currency, x.currency) as currency,
               x.amount as amount_text,
               -- A whole number of 1 to 40 digits, or no amount (a regular expression cost ~6% here).
               case when length(x.amount) between 1 and 40 and ltrim(x.amount, '0123456789') = '' then x.amount::numeric end as amount,
               x.owner_id as owner,
               x.to_username, tu.id as to_user_id,
               x.description, x.metadata, x.reference, p_actor[x.request] as actor,
               coalesce(x.hold, false) as hold,
               x.expires_in_seconds as expires_in,
               h.id as ref, h.kind as ref_kind, hf.user_id as hold_owner,
               sys.id as system_id,
               case when x.kind = 'reversal' then h.to_account_id
                    when h.id is not null then h.from_account_id
                    when x.kind = 'deposit' then sys.id else fw.id end as from_id,
               case x.kind when 'deposit' then sys.currency else fw.currency end as from_currency,
               case when x.kind = 'reversal' then h.from_account_id
                    when h.id is not null then h.to_account_id
                    when x.kind = 'withdrawal' then sys.id
                    when x.to_username is not null then uw.id
                    else tw.id end as to_id,
               case when x.kind = 'withdrawal' then sys.currency
                    when x.to_username is not null then uw.currency
                    else tw.currency end as to_currency,
               case x.kind when 'deposit' then tw.user_id else fw.user_id end as owner_of_user_side
          -- The items of the requests that will run, their arrays read in step (offset 0 keeps the
          -- planner from merging this into the joins below).
          from (select u.*
                  from (select unnest(p_request) as request, unnest(p_kind) as kind, unnest(p_from_wallet) as from_wallet_id,
                               unnest(p_to_wallet) as to_wallet_id, unnest(p_to_username) as to_username, unnest(p_owner) as owner_id,
                               unnest(p_amount) as amount, unnest(p_currency) as currency, unnest(p_description) as description,
                               unnest(p_metadata) as metadata, unnest(p_reference) as reference, unnest(p_hold) as hold,
                               unnest(p_expires_in) as expires_in_seconds, unnest(p_transfer) as transfer_id,
                               generate_series(1, cardinality(p_request)) as slot) u
                 where r_state[u.request] is null or r_state[u.request] = 'new'
                offset 0) x
          -- One index probe per item, whatever the size of the ledger or its statistics: a lateral
          -- subquery with a limit cannot be flattened into a join, which the planner would hash
          -- over whole tables (measured: O(accounts) per call when statistics lag a bulk load).
          -- Probes an item cannot need are skipped by their first condition (a one-time filter).
          left join lateral (select id, currency from accounts
                              where x.kind in ('deposit', 'withdrawal')
                                and kind = 'system' and name = 'world:' || x.currency limit 1) sys on true
          left join lateral (select id, currency, user_id from accounts
                              where id = x.from_wallet_id and kind = 'wallet' limit 1) fw on true
          left join lateral (select id, currency, user_id from accounts
                              where id = x.to_wallet_id and kind = 'wallet' limit 1) tw on true
          left join lateral (select id from users
                              where x.to_username is not null and lower(username) = lower(x.to_username) limit 1) tu on true
          left join lateral (select id, currency from accounts
                              where tu.id is not null and user_id = tu.id and currency = x.currency and kind = 'wallet' limit 1) uw on true
          left join lateral (select id, kind, from_account_id, to_account_id, currency from transfers
                              where x.transfer_id is not null and id = x.transfer_id limit 1) h on true
          left join lateral (select user_id from accounts where h.id is not null and id = h.from_account_id limit 1) hf on true
      ) q
      order by q.request, q.slot
    ) s;

  n := coalesce(array_length(t_request, 1), 0);

  -- 3. Lock every account the batch can touch, once, in ascending id order. Each by a probe for
  --    its one id: after waiting for another write's lock, PostgreSQL re-checks each row that write
  --    changed against the condition that found it, and `id = any(<all the batch's ids>)` made
  --    that ~0.4 ms a row (650 ms for a 1,000-transfer batch; now 6 ms).
  select array_agg(l.id), array_agg(l.ctid), array_agg(l.kind = 'wallet'), array_agg(l.balance), array_agg(l.pending_out),
         array_agg(l.pending_in), array_agg(l.version), array_agg(l.head_hash)
    into a_id, a_ctid, a_is_wallet, a_balance, a_pending_out, a_pending_in, a_version, a_head
    from (select a.*
            from (select distinct k.id from unnest(t_from || t_to) k(id) where k.id is not null order by k.id) k
            cross join lateral (select a.id, a.ctid, a.kind, a.balance, a.pending_out, a.pending_in, a.version, a.head_hash
                                  from accounts a where a.id = k.id limit 1 for update) a
           order by k.id) l;
  v_now := clock_timestamp();  -- after the locks: entry times are monotonic per account
  v_now_json := to_json(v_now)::text;
  v_now_hashed := kassa_hash_time(v_now);
  v_id_random := uuid_send(gen_random_uuid());
  v_id_prefix := lpad(to_hex(floor(extract(epoch from v_now) * 1000)::bigint), 12, '0') || '7'
                 || substr(encode(v_id_random, 'hex'), 14, 3);
  v_id_bits := ('x' || encode(substring(v_id_random from 9 for 8), 'hex'))::bit(64)::bigint & ~(1::bigint << 61);
  a_dirty := array_fill(false, array[coalesce(array_length(a_id, 1), 0)]);

  select array_agg(p.from_pos), array_agg(p.to_pos)
    into t_from_pos, t_to_pos
    from (select fp.pos as from_pos, tp.pos as to_pos
            from (select unnest(t_from) as from_id, unnest(t_to) as to_id, generate_series(1, n) as slot) u
            left join unnest(a_id) with ordinality fp(id, pos) on fp.id = u.from_id
            left join unnest(a_id) with ordinality tp(id, pos) on tp.id = u.to_id
           order by u.slot) p;

  -- Holds as they are now that their accounts are locked (most batches reference none: then the
  -- h_ arrays stay null and the statements for holds and reversals below are skipped).
  v_has_refs := array_remove(t_ref, null) <> '{}';
  if v_has_refs then
    select array_agg(h.status order by u.slot), array_agg(h.amount order by u.slot),
           array_agg(h.expires_at order by u.slot), array_agg(h.snapshot order by u.slot),
           array_agg(h.reversible order by u.slot)
      into h_status, h_amount, h_expires_at, h_snapshot, h_reversible
      from unnest(t_ref) with ordinality u(id, slot)
      left join lateral (
        select t.status, t.amount, t.expires_at, t.captured_amount - t.reversed_amount as reversible,
               jsonb_build_object('id', t.id, 'kind', t.kind, 'from_wallet_id', t.from_account_id,
                 'to_wallet_id', t.to_account_id, 'amount', t.amount::text, 'currency', t.currency,
                 'description', t.description, 'metadata', t.metadata, 'reference', t.reference,
                 'expires_at', t.expires_at, 'hash', null, 'reverses_transfer_id', t.reverses_transfer_id,
                 'created_at', t.created_at) as snapshot
          from transfers t where t.id = u.id limit 1) h on true;
  end if;

  t_id := array_fill(null::uuid, array[n]);
  t_applied := array_fill(false, array[n]);
  t_posts := array_fill(false, array[n]);
  t_status := array_fill(null::text, array[n]);
  t_captured := array_fill(null::numeric, array[n]);
  t_expires_at := array_fill(null::timestamptz, array[n]);
  t_from_version := array_fill(null::bigint, array[n]);
  t_to_version := array_fill(null::bigint, array[n]);
  t_from_balance := array_fill(null::numeric, array[n]);
  t_to_balance := array_fill(null::numeric, array[n]);
  t_from_hash := array_fill(null::text, array[n]);
  t_to_hash := array_fill(null::text, array[n]);
  t_hash := array_fill(null::text, array[n]);
  t_transfer := array_fill(null::json, array[n]);
  t_result := array_fill(null::json, array[n]);
  r_first := array_fill(null::int, array[r_count]);
  r_last := array_fill(null::int, array[r_count]);

  -- 4. Apply in order against the in-memory balances.
  for i in 1 .. n loop
    r := t_request[i];
    if r <> v_current then
      v_current := r;
      r_first[r] := i;
      if r_atomic[r] then
        s_balance := a_balance; s_pending_out := a_pending_out; s_pending_in := a_pending_in;
        s_version := a_version; s_head := a_head; s_dirty := a_dirty; s_resolved := v_resolved;
      end if;
    end if;
    r_last[r] := i;
    f := t_from_pos[i]; t := t_to_pos[i];
    v_post := false;

    if r_failed[r] then
      if t_error[i] is null then
        t_error[i] := 'batch_aborted';
        t_detail[i] := 'another transfer of this atomic batch failed';
      end if;
    elsif t_error[i] is not null then
      null;
    elsif t_kind[i] in ('capture', 'void', 'expire') then
      if h_status[i] <> 'pending' or t_ref[i] = any(v_resolved) then
        t_error[i] := 'transfer_not_pending';
        t_detail[i] := 'the hold was already captured or voided';
      elsif t_kind[i] = 'expire' and h_expires_at[i] > v_now then
        t_error[i] := 'transfer_not_pending';
        t_detail[i] := 'the hold has not expired';
      elsif t_kind[i] = 'capture' and h_expires_at[i] <= v_now then
        t_error[i] := 'hold_expired';
        t_detail[i] := 'the hold expired before it was captured';
      elsif t_kind[i] = 'capture' and coalesce(t_amount[i], h_amount[i]) > h_amount[i] then
        t_error[i] := 'amount_exceeds_hold';
        t_detail[i] := 'a capture can be at most the amount held';
      else
        -- Release the reservation; a capture then posts all or part of it, the rest stays put.
        v_held := h_amount[i];
        a_pending_out[f] := a_pending_out[f] - v_held;
        a_pending_in[t] := a_pending_in[t] - v_held;
        a_dirty[f] := true; a_dirty[t] := true;
        t_id[i] := t_ref[i];
        t_applied[i] := true;
        v_resolved := v_resolved || t_ref[i];
        if t_kind[i] = 'capture' then
          t_amount[i] := coalesce(t_amount[i], v_held);
          a_balance[f] := a_balance[f] - t_amount[i];
          a_balance[t] := a_balance[t] + t_amount[i];
          a_version[f] := a_version[f] + 1; a_version[t] := a_version[t] + 1;
          t_posts[i] := true;
          t_status[i] := 'posted'; t_captured[i] := t_amount[i];
        else
          t_status[i] := 'voided'; t_captured[i] := 0;
        end if;
      end if;
    elsif t_kind[i] = 'reversal' then
      -- What is left to reverse: the original's count, less reversals earlier in this batch.
      v_reversible := h_reversible[i];
      for j in 1 .. i - 1 loop
        if t_applied[j] and t_kind[j] = 'reversal' and t_ref[j] = t_ref[i] then v_reversible := v_reversible - t_amount[j]; end if;
      end loop;
      if h_status[i] <> 'posted' then
        t_error[i] := 'transfer_not_posted';
        t_detail[i] := 'only a posted transfer can be reversed';
      elsif coalesce(t_amount[i], v_reversible) > v_reversible or v_reversible = 0 then
        t_error[i] := 'limit_exceeded';
        t_detail[i] := format('at most %s minor units of this transfer can still be reversed', v_reversible);
      else
        t_amount[i] := coalesce(t_amount[i], v_reversible);
        v_post := true;
      end if;
    else
      v_post := true;
    end if;

    if not v_post then
      null;
    elsif a_is_wallet[f] and a_balance[f] - a_pending_out[f] < t_amount[i] then
      t_error[i] := 'insufficient_funds';
      t_detail[i] := 'the available balance of the source wallet is less than the amount';
    else
      t_id[i] := kassa_counted_uuid(v_id_prefix, v_id_bits, i);  -- time-ordered: the primary key grows at its right edge
      t_applied[i] := true;
      a_dirty[f] := true; a_dirty[t] := true;
      if t_hold[i] then
        -- Reserve only: available drops at once, balances move on capture.
        a_pending_out[f] := a_pending_out[f] + t_amount[i];
        a_pending_in[t] := a_pending_in[t] + t_amount[i];
        t_status[i] := 'pending'; t_captured[i] := 0;
        t_expires_at[i] := v_now + make_interval(secs => t_expires_in[i]);
      else
        a_balance[f] := a_balance[f] - t_amount[i];
        a_balance[t] := a_balance[t] + t_amount[i];
        a_version[f] := a_version[f] + 1; a_version[t] := a_version[t] + 1;
        t_posts[i] := true;
        t_status[i] := 'posted'; t_captured[i] := t_amount[i];
      end if;
    end if;
    if t_posts[i] then
      t_from_version[i] := a_version[f]; t_from_balance[i] := a_balance[f];
      t_to_version[i] := a_version[t];   t_to_balance[i] := a_balance[t];
      -- Extend both accounts' hash chains, in the order the entries are made.
      t_from_hash[i] := kassa_entry_hash_at(a_head[f], t_from[i], a_version[f], t_id[i], -t_amount[i], a_balance[f], v_now_hashed);
      t_to_hash[i] := kassa_entry_hash_at(a_head[t], t_to[i], a_version[t], t_id[i], t_amount[i], a_balance[t], v_now_hashed);
      a_head[f] := t_from_hash[i]; a_head[t] := t_to_hash[i];
      t_hash[i] := kassa_transfer_hash(t_id[i], t_from_hash[i], t_to_hash[i]);
    end if;

    if t_error[i] is not null and r_atomic[r] and not r_failed[r] then
      -- All or nothing: restore the balances and undo what this request applied so far.
      r_failed[r] := true;
      a_balance := s_balance; a_pending_out := s_pending_out; a_pending_in := s_pending_in;
      a_version := s_version; a_head := s_head; a_dirty := s_dirty; v_resolved := s_resolved;
      for j in r_first[r] .. i - 1 loop
        t_applied[j] := false; t_posts[j] := false; t_id[j] := null; t_hash[j] := null;
        t_error[j] := 'batch_aborted';
        t_detail[j] := 'another transfer of this atomic batch failed';
      end loop;
    end if;
  end loop;

  -- 5. Results, then every write in bulk. The writes read the item arrays as unnest()s in the
  --    select list, which stream in step (ProjectSet); unnest() in FROM first copies every row into
  --    a tuplestore (-5.4% instructions per transfer for the batch shape, -4.3% for calls of 32).
  for i in 1 .. n loop
    if t_applied[i] and t_kind[i] in ('capture', 'void', 'expire') then
      t_transfer[i] := (h_snapshot[i] || jsonb_build_object(
        'status', t_status[i], 'captured_amount', t_captured[i]::text, 'hash', t_hash[i], 'updated_at', v_now))::json;
    elsif t_applied[i] then
      -- Built as text and cast once: json_build_object looks up the type of each of its 32
      -- arguments on every call on PostgreSQL 15 (-3.3% instructions per transfer, callgrind).
      -- Values are put in as they are: text a client chose goes through to_json (description,
      -- reference) or is JSON already (metadata); the rest cannot hold a quote or a backslash
      -- (uuids, numbers, hex hashes, kinds and statuses, and the wallets' checked currency codes).
      t_transfer[i] := format('{"id":"%s","kind":"%s","status":"%s","from_wallet_id":%s,"to_wallet_id":%s,"amount":"%s","captured_amount":"%s","currency":"%s","description":%s,"metadata":%s,"reference":%s,"expires_at":%s,"hash":%s,"reverses_transfer_id":%s,"created_at":%s,"updated_at":%s}',
        t_id[i], t_kind[i], t_status[i],
        case when a_is_wallet[t_from_pos[i]] then '"' || t_from[i] || '"' else 'null' end,
        case when a_is_wallet[t_to_pos[i]] then '"' || t_to[i] || '"' else 'null' end,
        t_amount[i], t_captured[i], t_currency[i],
        coalesce(to_json(t_description[i])::text, 'null'), coalesce(t_metadata[i]::text, 'null'), coalesce(to_json(t_reference[i])::text, 'null'),
        coalesce(to_json(t_expires_at[i])::text, 'null'), coalesce('"' || t_hash[i] || '"', 'null'),
        case when t_kind[i] = 'reversal' then '"' || t_ref[i] || '"' else 'null' end,
        v_now_json, v_now_json)::json;
    end if;
    if t_applied[i] then
      t_result[i] := json_build_object('transfer', t_transfer[i]);
    elsif t_detail[i] is null then
      t_result[i] := json_build_object('error', json_build_object('code', t_error[i]));
    else
      t_result[i] := json_build_object('error', json_build_object('code', t_error[i], 'detail', t_detail[i]));
    end if;
  end loop;

  -- A request's items are contiguous, so its results are one slice of t_result.
  r_response := array_fill(null::json, array[r_count]);
  for r in 1 .. r_count loop
    if r_state[r] is null or r_state[r] = 'new' then
      -- (A slice copies the whole array first, so a request of one item takes its element.)
      r_response[r] := json_build_object('request_id', p_request_id[r],
                                         'results', case when r_first[r] = r_last[r] then json_build_array(t_result[r_first[r]])
                                                         else coalesce(array_to_json(t_result[r_first[r]:r_last[r]]), '[]'::json) end);
    end if;
  end loop;

  insert into transfers (id, kind, status, from_account_id, to_account_id, currency, amount,
                         captured_amount, description, metadata, reference, expires_at, reverses_transfer_id,
                         hash, debit_version, credit_version, created_by, created_at, updated_at)
  select u.id, u.kind, u.status, u.from_id, u.to_id, u.currency, u.amount, u.captured,
         u.description, u.metadata, u.reference, u.expires_at,
         case when u.kind = 'reversal' then u.ref end, u.hash, u.debit_version, u.credit_version, u.actor, v_now, v_now
    from (select unnest(t_id) as id, unnest(t_kind) as kind, unnest(t_status) as status, unnest(t_from) as from_id,
                 unnest(t_to) as to_id, unnest(t_currency) as currency, unnest(t_amount) as amount,
                 unnest(t_captured) as captured, unnest(t_description) as description, unnest(t_metadata) as metadata,
                 unnest(t_reference) as reference, unnest(t_expires_at) as expires_at, unnest(t_actor) as actor,
                 unnest(t_applied) as applied, unnest(t_ref) as ref, unnest(t_hash) as hash,
                 unnest(t_from_version) as debit_version, unnest(t_to_version) as credit_version) u
   where u.applied and u.kind not in ('capture', 'void', 'expire');

  -- These updates are planned at each call (EXECUTE), with the sizes the tables have then: a plan
  -- kept for the connection's life, made while the ledger was young, read every transfer in each
  -- call as the table grew (test/function-plans.test.ts). They run only for holds and reversals.
  if v_has_refs then
    execute 'update transfers h
                set status = u.status, captured_amount = u.captured, hash = u.hash,
                    debit_version = u.debit_version, credit_version = u.credit_version, updated_at = $9
               from unnest($1::uuid[], $2::text[], $3::numeric[], $4::boolean[], $5::text[], $6::text[], $7::bigint[], $8::bigint[])
                    as u(ref, status, captured, applied, kind, hash, debit_version, credit_version)
              where u.applied and u.kind in (''capture'', ''void'', ''expire'') and h.id = u.ref'
      using t_ref, t_status, t_captured, t_applied, t_kind, t_hash, t_from_version, t_to_version, v_now;

    execute 'update transfers o
                set reversed_amount = o.reversed_amount + g.total, updated_at = $5
               from (select u.ref, sum(u.amount) as total
                       from unnest($1::uuid[], $2::numeric[], $3::boolean[], $4::text[]) as u(ref, amount, applied, kind)
                      where u.applied and u.kind = ''reversal'' group by u.ref) g
              where o.id = g.ref'
      using t_ref, t_amount, t_applied, t_kind, v_now;
  end if;

  -- Every debit, then every credit: entry k of the 2n is transfer k's debit (k <= n) or transfer
  -- k - n's credit, with the ids a transfer i's entries always had (2n + 2i - 1 and 2n + 2i).
  -- (A VALUES pair per transfer, rescanned for each, cost 1.7% more for the batch shape.)
  insert into entries (id, account_id, version, transfer_id, amount, balance_after, created_at, hash)
  select kassa_counted_uuid(v_id_prefix, v_id_bits, case when e.k <= n then 2 * n + 2 * e.k - 1 else 2 * e.k end),
         e.account_id, e.version, e.transfer_id, case when e.k <= n then -e.amount else e.amount end,
         e.balance_after, v_now, e.hash
    from (select unnest(t_from || t_to) as account_id, unnest(t_from_version || t_to_version) as version,
                 unnest(t_id || t_id) as transfer_id, unnest(t_amount || t_amount) as amount,
                 unnest(t_from_balance || t_to_balance) as balance_after, unnest(t_from_hash || t_to_hash) as hash,
                 unnest(t_posts || t_posts) as posts, generate_series(1, 2 * n) as k) e
   where e.posts;

  -- By the locked rows' addresses: a lookup by id could be planned (once per connection, while
  -- the ledger was young) as a scan of every account; by address there is no such plan, and the
  -- locks keep the addresses from changing.
  update accounts a
     set balance = s.balance, pending_out = s.pending_out, pending_in = s.pending_in,
         version = s.version, head_hash = s.head, updated_at = v_now
    from (select unnest(a_ctid) as ctid, unnest(a_balance) as balance, unnest(a_pending_out) as pending_out,
                 unnest(a_pending_in) as pending_in, unnest(a_version) as version, unnest(a_head) as head,
                 unnest(a_dirty) as dirty) s
   where a.ctid = s.ctid and s.dirty;

  insert into outbox (id, type, wallet_ids, data)
  select kassa_counted_uuid(v_id_prefix, v_id_bits, n + u.slot),
         case u.kind when 'reversal' then 'transfer.reversed'
                     when 'capture' then 'transfer.posted'
                     when 'void' then 'transfer.voided'
                     when 'expire' then 'transfer.voided'
                     else u.kind || '.created' end,
         array_remove(array[case when a_is_wallet[u.from_pos] then u.from_id end,
                            case when a_is_wallet[u.to_pos] then u.to_id end], null),
         u.transfer
    from (select unnest(t_kind) as kind, unnest(t_from) as from_id, unnest(t_to) as to_id, unnest(t_from_pos) as from_pos,
                 unnest(t_to_pos) as to_pos, unnest(t_transfer) as transfer, unnest(t_applied) as applied,
                 generate_series(1, n) as slot) u
   where u.applied;

  -- Keys are written once, with their response, in key order (so batches never deadlock on
  -- them). A key committed meanwhile by a concurrent request with the same key fails this insert
  -- on the primary key (after waiting for that commit): the whole call rolls back, money
  -- included, and is retried (store/retry.ts), when the lookup above replays that response.
  -- A plain insert: ON CONFLICT DO NOTHING probed each key first and wrote a second WAL record
  -- to confirm its speculative insert (-1.8% instructions per transfer, calls of 32, callgrind).
  insert into idempotency_keys (scope, key, fingerprint, response)
  select c.scope, c.key, c.fingerprint, r_response[c.idx]
    from (select unnest(p_key_scope) as scope, unnest(p_key) as key, unnest(p_key_fingerprint) as fingerprint,
                 generate_series(1, r_count) as idx) c
   where r_state[c.idx] = 'new'
   order by c.scope, c.key;

  return query
    select q.idx, coalesce(case r_state[q.idx] when 'new' then 'applied' else r_state[q.idx] end, 'applied'),
           case when r_state[q.idx] = 'replayed' then r_stored[q.idx]
                when r_state[q.idx] in ('key_reused', 'key_in_use') then null
                else r_response[q.idx] end
      from generate_series(1, r_count) q(idx);
end $$;
