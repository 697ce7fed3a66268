-- Storage partitioned by user, and the shard function in the database.
--
-- interactions becomes a table hash-partitioned on user_id into 16 partitions (interactions_p00 …
-- interactions_p15; existing rows are moved). A user's events live in one partition, every unique key
-- still starts with user_id, and the history loader reads partitions in parallel. 16 is fixed: it is
-- enough for the cores of one machine, and changing it means moving every row again.
--
-- users.shard_hash is the shard function's hash of the external id (FNV-1a, 32-bit, over the UTF-8
-- bytes; docs/sharding.md has the rule and test vectors, PleatCore's Shard computes the same), so the
-- users of shard I of N are `shard_hash % N = I`.

CREATE FUNCTION pleat_shard_hash(external_id text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    h bigint := 2166136261;
    b bytea := convert_to(external_id, 'UTF8');
BEGIN
    FOR i IN 0 .. length(b) - 1 LOOP
        h := ((h # get_byte(b, i)) * 16777619) & 4294967295;
    END LOOP;
    RETURN h;
END
$$;

ALTER TABLE users ADD COLUMN shard_hash bigint NOT NULL GENERATED ALWAYS AS (pleat_shard_hash(external_id)) STORED;

ALTER TABLE interactions RENAME TO interactions_before_partitioning;
ALTER TABLE interactions_before_partitioning RENAME CONSTRAINT interactions_pkey TO interactions_before_partitioning_pkey;

CREATE TABLE interactions (
    occurred_at timestamptz NOT NULL,
    user_id     integer     NOT NULL,
    item_id     integer     NOT NULL,
    value       real,
    event_type  smallint    NOT NULL,
    batch_id    integer     NOT NULL,
    PRIMARY KEY (user_id, occurred_at, item_id, event_type)
) PARTITION BY HASH (user_id);

DO $$
BEGIN
    FOR p IN 0 .. 15 LOOP
        EXECUTE format('CREATE TABLE interactions_p%s PARTITION OF interactions FOR VALUES WITH (MODULUS 16, REMAINDER %s)',
                       lpad(p::text, 2, '0'), p);
    END LOOP;
END
$$;

INSERT INTO interactions SELECT * FROM interactions_before_partitioning;
DROP TABLE interactions_before_partitioning;
ANALYZE interactions;
