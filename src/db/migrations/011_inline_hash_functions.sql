-- The hash-chain functions are STABLE, which is what their bodies are: concat_ws and to_char
-- depend on settings in general (not for these arguments, but the planner cannot know that).
-- Declared IMMUTABLE over a STABLE body, PostgreSQL refuses to inline them, so every chain link
-- ran as a separate SQL-function query (executor start and end per call, and a parse and plan
-- per transaction): ~9% of the write function's CPU in a profile of the uniform benchmark.
-- STABLE, they are inlined into the expressions that call them: same result, a plain expression.
alter function kassa_entry_hash(text, uuid, bigint, uuid, numeric, numeric, timestamptz) stable;
alter function kassa_transfer_hash(uuid, text, text) stable;
