-- 0005: delivery. Outbox rows move pending → sending → sent, or back to pending with a later
-- next_attempt_at, or to dead; every attempt is kept in delivery_attempts.

ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER;  -- NULL: not_before
ALTER TABLE outbox ADD COLUMN sent_at INTEGER;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
CREATE INDEX outbox_next ON outbox (status, next_attempt_at);

CREATE TABLE delivery_attempts (
	id          INTEGER PRIMARY KEY,
	outbox_id   INTEGER NOT NULL REFERENCES outbox (id),
	attempt     INTEGER NOT NULL,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER NOT NULL,
	outcome     TEXT NOT NULL CHECK (outcome IN ('ok', 'retryable', 'permanent')),
	curl_code   INTEGER,
	reply       TEXT             -- the SMTP reply or HTTP status and a bounded excerpt
) STRICT;
CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id, attempt);
