-- Lists per behaviour asked for: `pleat score --events buy,view` keeps a list for each question ("what
-- will this user buy next?", "view next?"), and a request names the one it asks (`?event=buy`). The
-- empty event is the model's own question (its target behaviour, or the next event of any kind): every
-- list written before this migration.
CREATE TABLE recommendations_by_event (
    model_id      TEXT NOT NULL REFERENCES recommendation_sets (model_id),
    user_id       TEXT NOT NULL,
    event         TEXT NOT NULL,     -- the event type name asked for; '' for the model's own question
    items         TEXT NOT NULL,
    scores        BLOB NOT NULL,
    history_until INTEGER NOT NULL,
    computed_at   REAL NOT NULL,
    PRIMARY KEY (model_id, user_id, event)
) WITHOUT ROWID;

INSERT INTO recommendations_by_event (model_id, user_id, event, items, scores, history_until, computed_at)
SELECT model_id, user_id, '', items, scores, history_until, computed_at FROM recommendations;

DROP TABLE recommendations;
ALTER TABLE recommendations_by_event RENAME TO recommendations;
