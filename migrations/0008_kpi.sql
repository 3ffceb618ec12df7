-- 0008: what the KPIs of QĐ 194/QĐ-UBND need beyond the case itself: its fee (for the online
-- payment rate), the applicant's rating (satisfaction), the internal inspections units make
-- of their subordinate units, and a record of the KPI notices sent (the budget warning at most
-- once a week per unit, the weekly report once a week). The indexes serve the period scans.
ALTER TABLE cases ADD COLUMN fee INTEGER NOT NULL DEFAULT 0 CHECK (fee >= 0);
ALTER TABLE cases ADD COLUMN rating INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5);
ALTER TABLE cases ADD COLUMN rated_at INTEGER;
CREATE INDEX cases_received ON cases (received_at);

CREATE TABLE inspections (
	id                INTEGER PRIMARY KEY,
	unit_id           TEXT NOT NULL REFERENCES units (id),  -- the inspecting unit
	inspected_unit_id TEXT NOT NULL REFERENCES units (id),  -- one of its subordinate units
	on_date           TEXT NOT NULL,                        -- YYYY-MM-DD, local date
	note              TEXT,
	actor             TEXT NOT NULL,
	created_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX inspections_unit_date ON inspections (unit_id, on_date);

CREATE TABLE kpi_notices (
	kind      TEXT NOT NULL,      -- 'budget' or 'report'
	unit_id   TEXT NOT NULL,
	week      INTEGER NOT NULL,   -- the local day number of the Monday of the week
	sent_at   INTEGER NOT NULL,
	PRIMARY KEY (kind, unit_id, week)
) STRICT, WITHOUT ROWID;
CREATE INDEX cases_rated ON cases (rated_at) WHERE rated_at IS NOT NULL;
