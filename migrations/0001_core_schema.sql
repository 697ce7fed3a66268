-- Core schema: the catalogue of users and items, their interactions, and the ingest audit trail.
--
-- Scale-out rule: every unique key on interactions starts with user_id, so the table can later be
-- hash-partitioned or distributed by user (e.g. Citus) without changing keys.

CREATE TABLE ingest_batches (
    id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source         text        NOT NULL,             -- file path as given
    format         text        NOT NULL,
    sha256         text        NOT NULL,             -- of the interactions file
    items_source   text,
    items_sha256   text,                             -- of the item metadata file, if any
    status         text        NOT NULL CHECK (status IN ('committed', 'aborted')),
    rows_read      bigint      NOT NULL DEFAULT 0,
    rows_loaded    bigint      NOT NULL DEFAULT 0,
    rows_rejected  bigint      NOT NULL DEFAULT 0,
    duplicates     bigint      NOT NULL DEFAULT 0,
    new_users      bigint      NOT NULL DEFAULT 0,
    new_items      bigint      NOT NULL DEFAULT 0,
    items_described bigint     NOT NULL DEFAULT 0,
    message        text,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz NOT NULL DEFAULT now(),
    seconds        double precision NOT NULL DEFAULT 0
);
CREATE INDEX ingest_batches_sha256 ON ingest_batches (sha256);

-- External ids map to dense internal ids (1, 2, 3, …) that models use as embedding rows.
CREATE TABLE users (
    id          integer PRIMARY KEY,
    external_id text    NOT NULL UNIQUE,
    batch_id    integer NOT NULL REFERENCES ingest_batches (id)
);

CREATE TABLE items (
    id          integer PRIMARY KEY,
    external_id text    NOT NULL UNIQUE,
    batch_id    integer NOT NULL REFERENCES ingest_batches (id)
);

-- Descriptive metadata; category (the first genre) is the default fold key for long histories.
CREATE TABLE item_metadata (
    item_id   integer PRIMARY KEY REFERENCES items (id),
    title     text,
    category  text,
    genres    text[] NOT NULL DEFAULT '{}',
    batch_id  integer NOT NULL REFERENCES ingest_batches (id)
);
CREATE INDEX item_metadata_category ON item_metadata (category);

CREATE TABLE event_types (
    id   smallint PRIMARY KEY,
    name text     NOT NULL UNIQUE
);

-- One row per distinct event. The primary key is both the de-duplication key and the index for
-- "a user's history in time order". Columns are ordered for alignment: 28 bytes of data per row.
CREATE TABLE interactions (
    occurred_at timestamptz NOT NULL,
    user_id     integer     NOT NULL,
    item_id     integer     NOT NULL,
    value       real,
    event_type  smallint    NOT NULL,
    batch_id    integer     NOT NULL,
    PRIMARY KEY (user_id, occurred_at, item_id, event_type)
);
-- Foreign keys and secondary indexes are left off on purpose: the loader guarantees the references,
-- and every extra index is paid on each bulk load.

-- Rows that could not be loaded, kept with where they came from and why.
CREATE TABLE rejected_rows (
    batch_id    integer NOT NULL REFERENCES ingest_batches (id),
    source      text   NOT NULL,   -- the file (interactions or item metadata)
    line_number bigint NOT NULL,   -- 1-based; the header is line 1
    raw         bytea  NOT NULL,   -- exactly as read, even when it is not valid UTF-8
    reason      text   NOT NULL,
    PRIMARY KEY (batch_id, source, line_number)
);
