-- 0004: escalation. `watch` holds, for every open item, the instant its next rule fires;
-- `alerts` are the rules that fired (once per item, rule, deadline and occurrence); `outbox`
-- holds the messages they produced, waiting for delivery.

CREATE TABLE watch (
	item_kind     TEXT NOT NULL CHECK (item_kind IN ('case', 'document', 'assignment')),
	item_id       INTEGER NOT NULL,
	due_at        INTEGER NOT NULL,  -- the deadline the rules are armed for
	next_fire_at  INTEGER,           -- NULL: nothing left to fire (or the clock is stopped)
	checked_until INTEGER,           -- rules firing at or before this were handled; NULL: none
	PRIMARY KEY (item_kind, item_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX watch_next ON watch (next_fire_at) WHERE next_fire_at IS NOT NULL;

CREATE TABLE alerts (
	id              INTEGER PRIMARY KEY,
	item_kind       TEXT NOT NULL,
	item_id         INTEGER NOT NULL,
	rule_id         TEXT NOT NULL,
	due_at          INTEGER NOT NULL, -- the deadline generation
	occurrence      INTEGER NOT NULL, -- 0, then 1, 2... for a repeating rule
	fire_at         INTEGER NOT NULL, -- when the rule was due to fire
	fired_at        INTEGER NOT NULL, -- when it was written
	unit_id         TEXT,
	urgent          INTEGER NOT NULL CHECK (urgent IN (0, 1)),
	acknowledged_at INTEGER,
	acknowledged_by TEXT,
	UNIQUE (item_kind, item_id, rule_id, due_at, occurrence)
) STRICT;
CREATE INDEX alerts_item ON alerts (item_kind, item_id, id);
CREATE INDEX alerts_fired ON alerts (fired_at);

CREATE TABLE outbox (
	id         INTEGER PRIMARY KEY,
	alert_id   INTEGER REFERENCES alerts (id),  -- NULL for a digest
	channel    TEXT NOT NULL CHECK (channel IN ('email', 'chat')),
	recipient  TEXT NOT NULL,                   -- person id or chat channel id
	address    TEXT,                            -- e-mail address, for email
	subject    TEXT NOT NULL,
	body_text  TEXT NOT NULL,
	body_html  TEXT,
	status     TEXT NOT NULL CHECK (status IN ('pending', 'held', 'digested', 'sending',
	           'sent', 'failed', 'dead')),
	not_before INTEGER NOT NULL,                -- no delivery before this instant
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_status ON outbox (status, not_before);
CREATE INDEX outbox_recipient ON outbox (recipient, status);

-- Small facts the scheduler keeps across restarts, e.g. the day of the last digest.
CREATE TABLE scheduler_state (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
