-- 0002: the items dunghan tracks — one-stop cases, incoming documents, assignments — and the
-- append-only event log of every change to them. Instants are UTC Unix seconds.

CREATE TABLE cases (
	id           INTEGER PRIMARY KEY,
	code         TEXT NOT NULL UNIQUE,
	procedure    TEXT NOT NULL REFERENCES procedures (code),
	unit_id      TEXT NOT NULL REFERENCES units (id),
	handler_id   TEXT REFERENCES people (id),
	applicant    TEXT,
	received_at  INTEGER NOT NULL,
	due_at       INTEGER NOT NULL,
	due_given    INTEGER NOT NULL CHECK (due_given IN (0, 1)),
	online       TEXT NOT NULL CHECK (online IN ('none', 'partial', 'full')),
	paid_online  INTEGER NOT NULL CHECK (paid_online IN (0, 1)),
	digitized    INTEGER NOT NULL CHECK (digitized IN (0, 1)),
	status       TEXT NOT NULL CHECK (status IN ('received', 'in_progress', 'paused',
	             'completed', 'returned', 'withdrawn', 'rejected')),
	outcome      TEXT CHECK (outcome IN ('early', 'on_time', 'late')),
	late         INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
	paused_at    INTEGER,
	remaining    INTEGER,          -- office seconds that were left when paused
	completed_at INTEGER,
	ended_at     INTEGER,
	version      INTEGER NOT NULL,
	create_hash  BLOB NOT NULL,    -- SHA-256 of the canonical create request (idempotency)
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX cases_due ON cases (due_at, id);
CREATE INDEX cases_unit_due ON cases (unit_id, due_at, id);
CREATE INDEX cases_status_due ON cases (status, due_at, id);
CREATE INDEX cases_applicant ON cases (applicant) WHERE applicant IS NOT NULL;

CREATE TABLE documents (
	id              INTEGER PRIMARY KEY,
	book            TEXT NOT NULL,
	year            INTEGER NOT NULL,
	incoming_no     INTEGER NOT NULL CHECK (incoming_no > 0),
	symbol          TEXT,
	doc_date        TEXT,
	issuer          TEXT,
	type            TEXT,
	summary         TEXT NOT NULL,
	urgency         TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent', 'very_urgent', 'flash')),
	confidentiality TEXT NOT NULL CHECK (confidentiality IN ('normal', 'confidential', 'secret',
	                'top_secret')),
	received_at     INTEGER NOT NULL,
	due_at          INTEGER NOT NULL,
	lead_unit_id    TEXT REFERENCES units (id),
	status          TEXT NOT NULL CHECK (status IN ('registered', 'in_progress', 'done')),
	done_at         INTEGER,
	version         INTEGER NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	UNIQUE (book, year, incoming_no)
) STRICT;
CREATE INDEX documents_due ON documents (due_at, id);
CREATE INDEX documents_unit_due ON documents (lead_unit_id, due_at, id);
CREATE INDEX documents_symbol ON documents (symbol) WHERE symbol IS NOT NULL;

CREATE TABLE assignments (
	id          INTEGER PRIMARY KEY,
	document_id INTEGER REFERENCES documents (id),
	direction   TEXT,
	parent_id   INTEGER REFERENCES assignments (id),
	unit_id     TEXT NOT NULL REFERENCES units (id),
	role        TEXT NOT NULL CHECK (role IN ('lead', 'support')),
	assignee_id TEXT REFERENCES people (id),
	title       TEXT NOT NULL,
	due_at      INTEGER NOT NULL,
	status      TEXT NOT NULL CHECK (status IN ('open', 'done')),
	done_at     INTEGER,
	version     INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	CHECK (document_id IS NOT NULL OR direction IS NOT NULL OR parent_id IS NOT NULL)
) STRICT;
CREATE INDEX assignments_document ON assignments (document_id, id);
CREATE INDEX assignments_parent ON assignments (parent_id, id);
CREATE INDEX assignments_unit_due ON assignments (unit_id, due_at, id);
CREATE INDEX assignments_due ON assignments (due_at, id);

-- The event log: who did what to which item, when, and the item's due_at afterwards.
CREATE TABLE events (
	id          INTEGER PRIMARY KEY,
	item_kind   TEXT NOT NULL CHECK (item_kind IN ('case', 'document', 'assignment')),
	item_id     INTEGER NOT NULL,
	type        TEXT NOT NULL,
	at          INTEGER NOT NULL,
	actor       TEXT NOT NULL,
	data        TEXT NOT NULL CHECK (json_valid(data)),
	due_at      INTEGER,
	recorded_at INTEGER NOT NULL
) STRICT;
CREATE INDEX events_item ON events (item_kind, item_id, id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
