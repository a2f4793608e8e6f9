-- Stored responses and event data are json text, as the write function now builds them: it built
-- jsonb, extracted the event's copy from it and rebuilt each response from the parts, and the
-- server turned it back into text for every reader (~7% of the write function's CPU in a profile
-- of the uniform benchmark). Nothing queries inside these documents; readers parse them whole.
alter table idempotency_keys alter column response type json using response::json;
alter table outbox alter column data type json using data::json;
-- A type change resets the column's compression (008).
do $$
begin
  if exists (select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any (enumvals)) then
    alter table idempotency_keys alter column response set compression lz4;
    alter table outbox alter column data set compression lz4;
  end if;
end $$;
-- The write function returns them as json too (its file drops and recreates it, in one transaction).
