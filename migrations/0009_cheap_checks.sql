-- 0009: the same constraints, cheaper to check. SQLite evaluates `x IN ('a', 'b', 'c')` in a
-- CHECK by building a small ephemeral index for every row written, which made each insert of a
-- case, an event or a watch row several times slower than the insert itself (docs/performance.md);
-- a chain of `=` tests the same thing at no cost. SQLite cannot change a constraint in place: the
-- three tables are rebuilt with their rows, indexes and triggers. Nothing references them by
-- foreign key, so dropping the old tables deletes nothing else.

CREATE TABLE cases_new (
	id           INTEGER PRIMARY KEY,
	code         TEXT NOT NULL UNIQUE,
	procedure    TEXT NOT NULL REFERENCES procedures (code),
	unit_id      TEXT NOT NULL REFERENCES units (id),
	handler_id   TEXT REFERENCES people (id),
	applicant    TEXT,
	received_at  INTEGER NOT NULL,
	due_at       INTEGER NOT NULL,
	due_given    INTEGER NOT NULL CHECK (due_given IN (0, 1)),
	online       TEXT NOT NULL CHECK (online = 'none' OR online = 'partial' OR online = 'full'),
	paid_online  INTEGER NOT NULL CHECK (paid_online IN (0, 1)),
	digitized    INTEGER NOT NULL CHECK (digitized IN (0, 1)),
	status       TEXT NOT NULL CHECK (status = 'received' OR status = 'in_progress' OR
	             status = 'paused' OR status = 'completed' OR status = 'returned' OR
	             status = 'withdrawn' OR status = 'rejected'),
	outcome      TEXT CHECK (outcome IS NULL OR outcome = 'early' OR outcome = 'on_time' OR
	             outcome = 'late'),
	late         INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
	paused_at    INTEGER,
	remaining    INTEGER,          -- office seconds that were left when paused
	completed_at INTEGER,
	ended_at     INTEGER,
	version      INTEGER NOT NULL,
	create_hash  BLOB NOT NULL,    -- SHA-256 of the canonical create request (idempotency)
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	extended     INTEGER NOT NULL DEFAULT 0 CHECK (extended IN (0, 1)),
	paused_total INTEGER NOT NULL DEFAULT 0,
	fee          INTEGER NOT NULL DEFAULT 0 CHECK (fee >= 0),
	rating       INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
	rated_at     INTEGER
) STRICT;
INSERT INTO cases_new (id, code, procedure, unit_id, handler_id, applicant, received_at, due_at,
	due_given, online, paid_online, digitized, status, outcome, late, paused_at, remaining,
	completed_at, ended_at, version, create_hash, created_at, updated_at, extended,
	paused_total, fee, rating, rated_at)
SELECT id, code, procedure, unit_id, handler_id, applicant, received_at, due_at, due_given,
	online, paid_online, digitized, status, outcome, late, paused_at, remaining, completed_at,
	ended_at, version, create_hash, created_at, updated_at, extended, paused_total, fee, rating,
	rated_at
FROM cases;
DROP TABLE cases;
ALTER TABLE cases_new RENAME TO cases;
CREATE INDEX cases_due ON cases (due_at, id);
CREATE INDEX cases_unit_due ON cases (unit_id, due_at, id);
CREATE INDEX cases_status_due ON cases (status, due_at, id);
CREATE INDEX cases_applicant ON cases (applicant) WHERE applicant IS NOT NULL;
CREATE INDEX cases_received ON cases (received_at);
CREATE INDEX cases_rated ON cases (rated_at) WHERE rated_at IS NOT NULL;

CREATE TABLE events_new (
	id          INTEGER PRIMARY KEY,
	item_kind   TEXT NOT NULL CHECK (item_kind = 'case' OR item_kind = 'document' OR
	            item_kind = 'assignment'),
	item_id     INTEGER NOT NULL,
	type        TEXT NOT NULL,
	at          INTEGER NOT NULL,
	actor       TEXT NOT NULL,
	data        TEXT NOT NULL CHECK (json_valid(data)),
	due_at      INTEGER,
	recorded_at INTEGER NOT NULL
) STRICT;
INSERT INTO events_new (id, item_kind, item_id, type, at, actor, data, due_at, recorded_at)
SELECT id, item_kind, item_id, type, at, actor, data, due_at, recorded_at FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_item ON events (item_kind, item_id, id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TABLE watch_new (
	item_kind     TEXT NOT NULL CHECK (item_kind = 'case' OR item_kind = 'document' OR
	              item_kind = 'assignment'),
	item_id       INTEGER NOT NULL,
	due_at        INTEGER NOT NULL,  -- the deadline the rules are armed for
	next_fire_at  INTEGER,           -- NULL: nothing left to fire (or the clock is stopped)
	checked_until INTEGER,           -- rules firing at or before this were handled; NULL: none
	PRIMARY KEY (item_kind, item_id)
) STRICT, WITHOUT ROWID;
INSERT INTO watch_new (item_kind, item_id, due_at, next_fire_at, checked_until)
SELECT item_kind, item_id, due_at, next_fire_at, checked_until FROM watch;
DROP TABLE watch;
ALTER TABLE watch_new RENAME TO watch;
CREATE INDEX watch_next ON watch (next_fire_at) WHERE next_fire_at IS NOT NULL;
