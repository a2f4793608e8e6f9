-- Each row the sequencer numbers leaves a dead entry in outbox_unsequenced until vacuum reaches it
-- (where autovacuum is off, never), and every round read that index from its first entry: it
-- walked past every event numbered since the last vacuum (2.2 ms a round at 360,000 events against
-- 0.7 ms from a floor, and growing with the outbox). A round now starts at a floor below which
-- every event is numbered; why the floor may move, and when, is told in
-- src/db/functions/sequence_events.sql.
alter table event_sequencer
  add column floor_position bigint not null default 0,
  -- The next floor, and the transaction that saw it: it becomes the floor once every transaction
  -- up to that one has ended.
  add column next_floor_position bigint,
  add column next_floor_xid xid8;

-- Nothing reads the outbox by position but the sequencer, through outbox_unsequenced. With the
-- floor, the primary key offered a second way (a range of positions, every numbered event in it
-- read from the heap and skipped), which a plan made on a young outbox, whose statistics say every
-- event is unsequenced, took for the rest of its connection's life. Positions stay unique, as an
-- identity hands them out; events are found by sequence (outbox_sequence). Without the key, each
-- event is one index entry fewer to write, on the money path and again when it is numbered.
alter table outbox drop constraint outbox_pkey;
