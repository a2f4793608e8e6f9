-- Transfer ids in time order (UUID version 7: 48 bits of Unix milliseconds, then random bits),
-- so the primary key grows at its right edge instead of taking each insert to a random page.
-- Measured with `npm run bench:phases` on a benchmark database of ~230 k transfers: the random
-- primary key was ~25 µs of a ~60 µs transfer insert once it outgrew the buffer cache.
-- Ids stay unguessable (74 random bits) and reveal only the creation time, which every transfer
-- shows anyway.
create function kassa_uuid_v7() returns uuid language sql volatile parallel safe as $$
  select encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
              from 1 for 6),
      52, 1), 53, 1),  -- version 4 (0100) becomes 7 (0111); the variant bits stay
    'hex')::uuid
$$;
