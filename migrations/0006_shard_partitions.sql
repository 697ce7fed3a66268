-- Storage partitions keyed by the shard function.
--
-- Under 0004 the partitions hashed the internal user id while shards hash the external one, so a shard's
-- read (`--shard I/N`) scanned all 16 partitions. Now every event carries its user's partition,
-- `shard = users.shard_hash % 16` (written by ingest, which computes the same FNV-1a hash), and
-- interactions is list-partitioned on it: partition p holds the users whose shard hash is p mod 16. For
-- any N dividing 16, shard I of N is exactly the partitions p with p % N = I, and a user's own reads
-- (its history, its newest event) name its partition and touch that one only. The primary key ends with
-- shard (PostgreSQL wants the partition key in every unique key); shard follows from user_id, so the key
-- says what it said before. Existing rows are moved.

ALTER TABLE interactions RENAME TO interactions_before_sharding;
ALTER INDEX interactions_pkey RENAME TO interactions_before_sharding_pkey;
DO $$
BEGIN
    FOR p IN 0 .. 15 LOOP
        EXECUTE format('ALTER TABLE interactions_p%1$s RENAME TO interactions_before_sharding_p%1$s', lpad(p::text, 2, '0'));
        EXECUTE format('ALTER INDEX interactions_p%1$s_pkey RENAME TO interactions_before_sharding_p%1$s_pkey', lpad(p::text, 2, '0'));
    END LOOP;
END
$$;

CREATE TABLE interactions (
    occurred_at timestamptz NOT NULL,
    user_id     integer     NOT NULL,
    item_id     integer     NOT NULL,
    value       real,
    event_type  smallint    NOT NULL,
    batch_id    integer     NOT NULL,
    shard       smallint    NOT NULL,   -- users.shard_hash % 16 of user_id: the partition
    PRIMARY KEY (user_id, occurred_at, item_id, event_type, shard)
) PARTITION BY LIST (shard);

DO $$
BEGIN
    FOR p IN 0 .. 15 LOOP
        EXECUTE format('CREATE TABLE interactions_p%s PARTITION OF interactions FOR VALUES IN (%s)', lpad(p::text, 2, '0'), p);
    END LOOP;
END
$$;

INSERT INTO interactions
SELECT i.occurred_at, i.user_id, i.item_id, i.value, i.event_type, i.batch_id, (u.shard_hash % 16)::smallint
FROM interactions_before_sharding i JOIN users u ON u.id = i.user_id;
DROP TABLE interactions_before_sharding;
ANALYZE interactions;
