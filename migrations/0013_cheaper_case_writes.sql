-- 0013: cheaper writes of a new case.
-- Events without `CHECK (json_valid(data))`. Every event's data is JSON text the daemon writes
-- itself (item_text_object or jansson's encoder, from an object it holds), so the check
-- could never fail, yet SQLite parsed the text again on every insert: about 6 000 instructions
-- of the 18 000 an event row costs, at every case created (docs/performance.md, "Ingest").
-- SQLite cannot drop a constraint in place: the table is rebuilt with its rows, index and
-- triggers, as 0009 did. Nothing references events by foreign key.

CREATE TABLE events_new (
	id          INTEGER PRIMARY KEY,
	item_kind   TEXT NOT NULL CHECK (item_kind = 'case' OR item_kind = 'document' OR
	            item_kind = 'assignment'),
	item_id     INTEGER NOT NULL,
	type        TEXT NOT NULL,
	at          INTEGER NOT NULL,
	actor       TEXT NOT NULL,
	data        TEXT NOT NULL,     -- a JSON object, written by the daemon only
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

-- cases_due (due_at, id) was in the plan of one statement only, the case list without a unit,
-- and a new case paid an insert at a random place of it (and that page at the commit). The
-- list now merges the statuses' parts of cases_status_due in due order (store.c,
-- STMT_CASE_LIST); no other statement used it (EXPLAIN QUERY PLAN of every statement).
DROP INDEX cases_due;
