-- Stored responses and event data are json text, as the write function now builds them: it built
-- jsonb, extracted the event's copy from it and rebuilt each response from the parts, and the
-- server turned it back into text for every reader (~7% of the write function's CPU in a profile
-- of the uniform benchmark). Nothing queries inside these documents; readers parse them whole.
-- The write function returns them as json too (its file drops and recreates it, in one transaction).
do $$
declare
  v_column record;
begin
  for v_column in select * from (values ('idempotency_keys', 'response'), ('outbox', 'data')) c(tbl, col) loop
    -- A type change resets the column's compression (lz4 since 008, where the server has it): keep it.
    if (select attcompression = 'l' from pg_attribute where attrelid = v_column.tbl::regclass and attname = v_column.col) then
      execute format('alter table %I alter column %I type json using %I::json, alter column %I set compression lz4',
                     v_column.tbl, v_column.col, v_column.col, v_column.col);
    else
      execute format('alter table %I alter column %I type json using %I::json', v_column.tbl, v_column.col, v_column.col);
    end if;
  end loop;
end $$;
