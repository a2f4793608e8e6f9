-- A batch request's stored response (1,000 results, ~600 kB of JSON) is compressed on its way to
-- TOAST; pglz cost ~6 µs per transfer of the batch, lz4 under 2 µs (phase timing, 1,000-transfer
-- batches). lz4 only where the server was built with it (Debian's is; the embedded one is not).
do $$
begin
  if exists (select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any (enumvals)) then
    alter table idempotency_keys alter column response set compression lz4;
    alter table outbox alter column data set compression lz4;
  end if;
end $$;
