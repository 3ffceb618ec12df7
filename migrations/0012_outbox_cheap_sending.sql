-- 0012: the outbox and its attempts, cheaper to move. Every delivery changes a row's status
-- twice (pending → sending → sent) and writes an attempt. Before, each change re-checked
-- `status IN (7 names)` (an ephemeral index built per row, as 0009 found for cases) and moved
-- the row in three indexes that all began with or held the status; each attempt checked
-- `outcome IN (3 names)` the same way. Now the checks are chains of `=`, and the indexes hold
-- only the rows their queries look for (partial indexes), so a sent row leaves them for good:
--   outbox_due    pending rows by when they are due: the sender's claim and next-due queries;
--   outbox_open   rows that are not done (held, sending, failed, dead): requeue at start,
--                 the status counts, dead rows;
--   outbox_held   held rows by recipient: the digests.
-- A claim removes a row from outbox_due and adds it to outbox_open; its outcome `sent` removes
-- it from outbox_open. SQLite cannot change a constraint in place: both tables are rebuilt.
-- delivery_attempts references outbox, so its rows wait in a plain copy while outbox is swapped.

CREATE TABLE outbox_new (
	id               INTEGER PRIMARY KEY,
	alert_id         INTEGER REFERENCES alerts (id),  -- NULL for a digest
	channel          TEXT NOT NULL CHECK (channel = 'email' OR channel = 'chat'),
	recipient        TEXT NOT NULL,                   -- person id or chat channel id
	address          TEXT,                            -- e-mail address, for email
	subject          TEXT NOT NULL,
	body_text        TEXT NOT NULL,
	body_html        TEXT,
	status           TEXT NOT NULL CHECK (status = 'pending' OR status = 'sending' OR
	                                      status = 'sent' OR status = 'held' OR
	                                      status = 'digested' OR status = 'failed' OR
	                                      status = 'dead'),
	not_before       INTEGER NOT NULL,                -- no delivery before this instant
	created_at       INTEGER NOT NULL,
	attempts         INTEGER NOT NULL DEFAULT 0,
	next_attempt_at  INTEGER,                         -- NULL: not_before
	sent_at          INTEGER,
	last_error       TEXT,
	facts            TEXT CHECK (facts IS NULL OR json_valid(facts)),
	retried_attempts INTEGER NOT NULL DEFAULT 0,
	retried_at       INTEGER
) STRICT;
INSERT INTO outbox_new (id, alert_id, channel, recipient, address, subject, body_text, body_html,
                        status, not_before, created_at, attempts, next_attempt_at, sent_at,
                        last_error, facts, retried_attempts, retried_at)
	SELECT id, alert_id, channel, recipient, address, subject, body_text, body_html, status,
	       not_before, created_at, attempts, next_attempt_at, sent_at, last_error, facts,
	       retried_attempts, retried_at
	FROM outbox;

CREATE TABLE delivery_attempts_copy AS SELECT * FROM delivery_attempts;
DROP TABLE delivery_attempts;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;

CREATE TABLE delivery_attempts (
	id          INTEGER PRIMARY KEY,
	outbox_id   INTEGER NOT NULL REFERENCES outbox (id),
	attempt     INTEGER NOT NULL,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER NOT NULL,
	outcome     TEXT NOT NULL CHECK (outcome = 'ok' OR outcome = 'retryable' OR
	                                 outcome = 'permanent'),
	curl_code   INTEGER,
	reply       TEXT             -- the SMTP reply or HTTP status and a bounded excerpt
) STRICT;
INSERT INTO delivery_attempts (id, outbox_id, attempt, started_at, finished_at, outcome,
                               curl_code, reply)
	SELECT id, outbox_id, attempt, started_at, finished_at, outcome, curl_code, reply
	FROM delivery_attempts_copy;
DROP TABLE delivery_attempts_copy;
CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id, attempt);

CREATE INDEX outbox_due ON outbox (coalesce(next_attempt_at, not_before), id)
	WHERE status = 'pending';
CREATE INDEX outbox_open ON outbox (status)
	WHERE status = 'held' OR status = 'sending' OR status = 'failed' OR status = 'dead';
CREATE INDEX outbox_held ON outbox (recipient, id) WHERE status = 'held';
-- 0011's index for a case page's messages by alert, lost with the old table
CREATE INDEX outbox_alert ON outbox (alert_id, id) WHERE alert_id IS NOT NULL;
