-- Events leave the outbox in one public order, `sequence`, given after commit by one sequencer
-- at a time (kassa_sequence_events). Why not the insert order (`position`)? A transaction that
-- took position 10 may commit after one that took 11; a reader that had moved past 11 would
-- never see 10. The sequencer numbers only what has committed, so a late commit simply gets a
-- later number and nothing is skipped. Per-wallet order holds as well: `position` is taken at
-- the end of the write, while the wallet's row lock is held, so of two events on one wallet the
-- earlier committed first, is visible to the sequencer no later than the other, and has the
-- lower position, which orders each round.
alter table outbox add column sequence bigint;
-- Both indexes are partial, so the money path's insert (sequence still null) feeds only the
-- small one; the sequencer moves each row from one to the other.
create unique index outbox_sequence on outbox (sequence) where sequence is not null;
create index outbox_unsequenced on outbox (position) where sequence is null;

create table event_sequencer (
  id int primary key check (id = 1),
  last_sequence bigint not null
);
insert into event_sequencer (id, last_sequence) values (1, 0);

-- Which wallets an event concerns, written by the sequencer (off the money path), so a user's
-- feed is an index range per wallet.
create table event_wallets (
  wallet_id uuid not null,
  sequence bigint not null,
  primary key (wallet_id, sequence)
);

-- How far each consumer (the broker relay, the webhook fan-out) has taken the events. The row
-- lock is the lease: an instance relays only while it holds it, so two never publish the same
-- events in the normal case, and a crash before the cursor moves means a re-send, not a loss.
create table event_cursors (
  consumer text primary key,
  sequence bigint not null default 0,
  updated_at timestamptz not null default now()
);
insert into event_cursors (consumer) values ('broker'), ('webhooks');

-- Numbers up to p_limit committed events; does nothing while another instance is sequencing.
create function kassa_sequence_events(p_limit int) returns table (sequenced int, last_sequence bigint)
language plpgsql as $$
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
         select o.position, v_last + row_number() over (order by o.position) as sequence
           from (select position from outbox where outbox.sequence is null order by position limit p_limit) o
       ), numbered as (
         update outbox o set sequence = n.sequence from next n where o.position = n.position
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

create table webhooks (
  id uuid primary key default gen_random_uuid(),
  url text not null,
  events text[] not null,
  secret text not null,
  enabled boolean not null default true,
  -- Set at the first failure after a success; an endpoint failing for long enough is disabled.
  failing_since timestamptz,
  disabled_at timestamptz,
  created_at timestamptz not null default now()
);

-- One row per (endpoint, event): its retry state.
create table webhook_messages (
  webhook_id uuid not null references webhooks (id) on delete cascade,
  event_sequence bigint not null,
  state text not null default 'pending' check (state in ('pending', 'delivered', 'failed')),
  attempts int not null default 0,
  next_attempt_at timestamptz not null default now(),
  primary key (webhook_id, event_sequence)
);
create index webhook_messages_due on webhook_messages (next_attempt_at) where state = 'pending';

-- Every attempt, as /v1/webhooks/{id}/deliveries shows it.
create table webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  webhook_id uuid not null references webhooks (id) on delete cascade,
  event_id uuid not null,
  event_type text not null,
  attempt int not null,
  succeeded boolean not null,
  response_status int,
  error text,
  duration_ms int not null,
  next_attempt_at timestamptz,
  created_at timestamptz not null default now()
);
create index webhook_deliveries_by_webhook on webhook_deliveries (webhook_id, created_at desc, id desc);
