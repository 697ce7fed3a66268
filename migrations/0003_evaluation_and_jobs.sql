-- Offline evaluation runs (`pleat evaluate`) and scheduled job runs (`pleat jobs run`).

CREATE TABLE evaluation_runs (
    id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    models       text[]  NOT NULL,                  -- registered model ids evaluated
    baselines    text[]  NOT NULL,                  -- e.g. {pop,markov}
    split        text    NOT NULL,                  -- which examples: 'test' or 'valid'
    snapshot_batch integer NOT NULL,                -- newest ingest batch in the evaluated data
    users        integer NOT NULL,                  -- evaluated users (examples)
    metrics      jsonb   NOT NULL,                  -- the whole metrics.json
    report_dir   text    NOT NULL,
    seconds      double precision NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE job_runs (
    id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job          text    NOT NULL,                  -- job name (jobs/<name>.yaml)
    attempt      integer NOT NULL DEFAULT 1,        -- 1, then 2, ... when the retry policy re-runs it
    status       text    NOT NULL CHECK (status IN ('running', 'succeeded', 'skipped', 'failed')),
    pid          integer NOT NULL,                  -- the process that ran it
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    models       text[]  NOT NULL DEFAULT '{}',     -- models this run trained and registered
    promoted     text,                              -- the model it made active, if any
    message      text,                              -- what happened, e.g. why a model was not promoted
    error        text
);
CREATE INDEX job_runs_job_started ON job_runs (job, started_at DESC);
