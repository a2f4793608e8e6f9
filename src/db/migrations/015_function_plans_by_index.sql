-- PL/pgSQL keeps each statement's plan for the life of its connection. A plan made while a table
-- was small reads the whole table when that is cheapest then, and keeps reading all of it as the
-- table grows: the sequencer's round, planned on a young outbox, read every event ever sequenced
-- (in a 5-minute soak it fell 183,000 events behind, taking half a core), and each probe of the
-- entries' binary search by time read every entry. As the write function and its trigger already
-- do, these reach their tables by index (or by address) only: the search here, the sequencer in
-- src/db/functions/sequence_events.sql.
alter function kassa_entry_version_before(uuid, timestamptz) set enable_seqscan = off;
