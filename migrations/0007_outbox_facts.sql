-- 0007: what a message is about, frozen when the alert fires (the item's code, summary, unit,
-- handler, due, link, the rule and its severity, as JSON) for payloads that carry more than text
-- (json chat channels); and what a manual retry needs so that attempt numbers stay unique while
-- the retry still gets a full round of attempts.
ALTER TABLE outbox ADD COLUMN facts TEXT CHECK (facts IS NULL OR json_valid(facts));
ALTER TABLE outbox ADD COLUMN retried_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN retried_at INTEGER;
