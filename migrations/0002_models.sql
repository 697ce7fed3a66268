-- The model registry: one row per successfully trained model, written when its run finishes.
CREATE TABLE models (
    id              text PRIMARY KEY,                 -- '<kind>-<yyyymmdd-hhmmss>-<hex>'
    kind            text NOT NULL CHECK (kind IN ('sasrec', 'bert4rec', 'hstu')),
    config          jsonb NOT NULL,                   -- the full resolved training config
    snapshot_batch  integer NOT NULL,                 -- newest committed ingest batch in the training data
    users           integer NOT NULL,
    items           integer NOT NULL,                 -- vocabulary size
    events          bigint NOT NULL,
    best_epoch      integer NOT NULL,
    epochs          integer NOT NULL,
    valid_metrics   jsonb NOT NULL,                   -- {"hr@10": ..., "ndcg@10": ..., "mrr": ...}
    test_metrics    jsonb NOT NULL,
    test_sampled    jsonb NOT NULL,                   -- test against 100 sampled negatives: {"uniform": {...}, "popularity": {...}}
    history         jsonb NOT NULL,                   -- per-epoch loss, validation metrics, seconds
    artifact_path   text NOT NULL,
    artifact_sha256 text NOT NULL,                    -- of model.safetensors
    load_seconds    double precision NOT NULL,
    train_seconds   double precision NOT NULL,
    total_seconds   double precision NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX models_kind_created ON models (kind, created_at DESC);
