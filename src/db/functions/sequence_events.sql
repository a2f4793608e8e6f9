-- kassa_sequence_events: numbers up to p_limit committed events in one public order; does nothing
-- while another instance is sequencing. Why a sequence given after commit, and not the insert
-- order, is told in migration 005, which created it.
--
-- PL/pgSQL keeps a plan per connection: planned on a young outbox, a round joined by position read
-- the outbox's primary key from its first event on, through every event ever sequenced, at every
-- round (in a 5-minute soak the sequencer fell 183,000 events behind). So it reaches the outbox by
-- index only, and updates the round's rows by their addresses (only the sequencer updates outbox
-- rows, and it runs alone).
--
-- A round reads the unsequenced events from a floor position up (migration 016: below it, the
-- index holds only the dead entries of events already numbered). Every event below the floor is
-- numbered, or was rolled back. An event still unseen is one whose transaction has not committed;
-- it may hold a position below the newest one numbered, so the floor moves in two steps:
--   1. a round notes the last position handed out so far (P), then takes its own transaction id
--      (X). Whoever wrote an event at a position up to P took that position before X existed, and
--      had a transaction id before it took the position (every writer of the outbox has written
--      another row first: the transfer, the user or the account), so its id is below X;
--   2. a later round that sees every transaction up to X ended (the oldest running one is above
--      X) sees every event up to P that will ever commit. Once it has numbered those, the floor
--      moves up to P + 1 (or to just past the last event it numbered, if it stopped at p_limit).
-- While a transaction older than X runs on, the floor waits and rounds read from the old floor:
-- slower, never wrong. The position sequence must hand out its values one by one (cache 1, the
-- default), or P would not bound the positions still to come.
create or replace function kassa_sequence_events(p_limit int) returns table (sequenced int, last_sequence bigint)
language plpgsql
set enable_seqscan = off as $$
declare
  v_handed_out bigint := coalesce(pg_sequence_last_value(pg_get_serial_sequence('outbox', 'position')::regclass), 0);
  v_last bigint;
  v_floor bigint;
  v_next_floor bigint;
  v_next_xid xid8;
  v_next_ready boolean;
  v_new_floor bigint;
  v_count int;
  v_last_position bigint;
begin
  select s.last_sequence, s.floor_position, s.next_floor_position, s.next_floor_xid
    into v_last, v_floor, v_next_floor, v_next_xid
    from event_sequencer s where s.id = 1 for update skip locked;
  if not found then
    return query select 0, null::bigint;
    return;
  end if;
  v_next_ready := v_next_xid is not null and pg_snapshot_xmin(pg_current_snapshot()) > v_next_xid;
  with next as (
         select o.ctid, v_last + row_number() over (order by o.position) as sequence
           from (select ctid, position from outbox
                  where outbox.sequence is null and outbox.position >= v_floor
                  order by position limit p_limit) o
       ), numbered as (
         update outbox o set sequence = n.sequence from next n where o.ctid = n.ctid
         returning o.sequence, o.position, o.wallet_ids
       ), indexed as (
         insert into event_wallets (wallet_id, sequence)
         select distinct w.wallet_id, n.sequence from numbered n cross join lateral unnest(n.wallet_ids) as w(wallet_id)
       )
  select count(*)::int, coalesce(max(n.sequence), v_last), max(n.position) into v_count, v_last, v_last_position from numbered n;
  if v_next_ready then
    v_new_floor := case when v_count < p_limit then v_next_floor else least(v_next_floor, v_last_position) end + 1;
  end if;
  if v_count = 0 and not coalesce(v_new_floor > v_floor, false) then
    return query select 0, v_last;  -- nothing to number, nor a floor to move
    return;
  end if;
  v_floor := greatest(v_floor, v_new_floor);
  if v_next_ready or v_next_xid is null then
    v_next_floor := v_handed_out;
    v_next_xid := pg_current_xact_id();  -- assigned by the row lock above, after v_handed_out was read
  end if;
  update event_sequencer
     set last_sequence = v_last, floor_position = v_floor, next_floor_position = v_next_floor, next_floor_xid = v_next_xid
   where id = 1;
  if v_count > 0 then
    perform pg_notify('kassa_events', v_last::text); -- wakes live streams in every instance
  end if;
  return query select v_count, v_last;
end $$;
