-- 0001: the organisation (units and people) and the procedures, synced from config at start
-- and on reload. Entries removed from config stay, marked inactive, so history keeps its names.
-- References are deferred because units name their head and people name their unit.

CREATE TABLE units (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	level      TEXT NOT NULL,
	parent_id  TEXT REFERENCES units (id) DEFERRABLE INITIALLY DEFERRED,
	head_id    TEXT REFERENCES people (id) DEFERRABLE INITIALLY DEFERRED,
	email      TEXT,
	active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX units_parent ON units (parent_id);

CREATE TABLE people (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	title      TEXT,
	email      TEXT,
	unit_id    TEXT NOT NULL REFERENCES units (id) DEFERRABLE INITIALLY DEFERRED,
	active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX people_unit ON people (unit_id);

CREATE TABLE procedures (
	code       TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	days       REAL NOT NULL CHECK (days >= 0),
	on_resume  TEXT NOT NULL CHECK (on_resume IN ('restart', 'continue')),
	active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	updated_at INTEGER NOT NULL
) STRICT;
