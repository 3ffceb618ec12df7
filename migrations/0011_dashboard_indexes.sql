-- 0011: indexes for the KPI reports and the dashboard (docs/performance.md, "KPIs").
-- The satisfaction figure reads the ratings of a period by rated_at; with only rated_at in the
-- index, each of the year's ratings (a third of the cases) cost a lookup of its row for unit_id
-- and rating: 0.7 s of CPU for a province-year of 2 000 000 cases. With both in the index the
-- pass reads the index alone: 0.06 s.
DROP INDEX cases_rated;
CREATE INDEX cases_rated ON cases (rated_at, unit_id, rating) WHERE rated_at IS NOT NULL;
-- A case's page lists the messages written for each of its alerts.
CREATE INDEX outbox_alert ON outbox (alert_id, id) WHERE alert_id IS NOT NULL;
