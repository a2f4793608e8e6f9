-- Receipts are looked up by transfer hash. Indexing the whole 64-character hex hash made that
-- index the largest on transfers (27 MB at 229 k transfers, three times the primary key) and,
-- its keys being random, the costliest to insert into once it outgrew the buffer cache (~27 µs
-- of ~60 µs per transfer insert, measured with `npm run bench:phases` on a benchmark database).
-- The first 16 characters (64 bits) find the row just as well; the lookup then compares the
-- whole hash.
drop index transfers_hash;
create index transfers_hash_prefix on transfers (substr(hash, 1, 16)) where hash is not null;
