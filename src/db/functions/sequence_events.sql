-- kassa_sequence_events: numbers up to p_limit committed events in one public order; does nothing
-- while another instance is sequencing. Why a sequence given after commit, and not the insert
-- order, is told in migration 005, which created it.
--
-- PL/pgSQL keeps a plan per connection: planned on a young outbox, a round joined by position read
-- the outbox's primary key from its first event on, through every event ever sequenced, at every
-- round (in a 5-minute soak the sequencer fell 183,000 events behind). So it reaches the outbox by
-- index only, and updates the round's rows by their addresses (only the sequencer updates outbox
-- rows, and it runs alone).
create or replace function kassa_sequence_events(p_limit int) returns table (sequenced int, last_sequence bigint)
language plpgsql
set enable_seqscan = off as $$
declare
  v_last bigint;
  v_count int;
begin
  select s.last_sequence into v_last from event_sequencer s where s.id = 1 for update skip locked;
  if not found then
    return query select 0, null::bigint;
    return;
  end if;
  with next as (
         select o.ctid, v_last + row_number() over (order by o.position) as sequence
           from (select ctid, position from outbox where outbox.sequence is null order by position limit p_limit) o
       ), numbered as (
         update outbox o set sequence = n.sequence from next n where o.ctid = n.ctid
         returning o.sequence, o.wallet_ids
       ), indexed as (
         insert into event_wallets (wallet_id, sequence)
         select distinct w.wallet_id, n.sequence from numbered n cross join lateral unnest(n.wallet_ids) as w(wallet_id)
       )
  select count(*)::int, coalesce(max(n.sequence), v_last) into v_count, v_last from numbered n;
  if v_count > 0 then
    update event_sequencer set last_sequence = v_last where id = 1;
    perform pg_notify('kassa_events', v_last::text); -- wakes live streams in every instance
  end if;
  return query select v_count, v_last;
end $$;
