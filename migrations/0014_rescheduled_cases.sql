-- 0014: the open cases that were rescheduled (late = 1: late in every figure, docs/api.md),
-- which the overdue counts of /api/v1/status, /metrics and the dashboard add to the cases past
-- due_at. Few rows, and a new case (late = 0) writes nothing here.
CREATE INDEX cases_rescheduled ON cases (status, due_at, unit_id) WHERE late = 1;
