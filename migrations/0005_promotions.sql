-- Promotion decisions: whether a model may become the one that serves (`pleat score`, pipelines and
-- jobs ask before they activate a model's lists). A model serves only after a decision that promoted it,
-- or one forced with --force, which stays on record.

CREATE TABLE promotions (
    id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id         text    NOT NULL REFERENCES models (id),
    serving_model_id text,                              -- the model it was compared with; NULL: none served
    promoted         boolean NOT NULL,                  -- what the rule decided
    forced           boolean NOT NULL DEFAULT false,    -- activated with --force whatever the rule decided
    decision         jsonb   NOT NULL,                  -- the figures, the rule and the reason
    decided_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX promotions_model ON promotions (model_id, decided_at DESC);

-- A job run's promotion decision, as recorded in `promotions`.
ALTER TABLE job_runs ADD COLUMN promotion jsonb;
