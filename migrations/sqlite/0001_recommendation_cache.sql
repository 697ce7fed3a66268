-- The recommendation cache (SQLite, WAL): each scored model's top-K per user, and the pointer that
-- says which model's lists readers see. A new model is written under its own id and becomes visible
-- only when `active_model` is switched to it in one transaction, so a reader sees one model's complete
-- set or the other's, never a mix.

CREATE TABLE recommendation_sets (
    model_id     TEXT PRIMARY KEY,
    top_k        INTEGER NOT NULL,
    include_seen INTEGER NOT NULL,
    users        INTEGER NOT NULL DEFAULT 0,
    started_at   REAL NOT NULL,      -- Unix seconds
    finished_at  REAL                -- set when the set is complete
);

-- One row per (model, user) holding the whole ranked list: one primary-key read answers a request.
CREATE TABLE recommendations (
    model_id      TEXT NOT NULL REFERENCES recommendation_sets (model_id),
    user_id       TEXT NOT NULL,     -- the user's external id
    items         TEXT NOT NULL,     -- JSON array of external item ids, best first (rank = position + 1)
    scores        BLOB NOT NULL,     -- one little-endian float32 per item
    history_until INTEGER NOT NULL,  -- Unix seconds of the newest event the list was computed from
    computed_at   REAL NOT NULL,     -- Unix seconds
    PRIMARY KEY (model_id, user_id)
) WITHOUT ROWID;

-- Exactly one row once a model is active.
CREATE TABLE active_model (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    model_id    TEXT NOT NULL REFERENCES recommendation_sets (model_id),
    switched_at REAL NOT NULL
);
