-- 0010: two indexes on cases that no statement uses. Every list of cases runs one statement
-- whose filters are all optional (`?2 IS NULL OR unit_id IN ...`), so SQLite plans it once
-- over cases_due whatever the filters; neither cases_unit_due nor cases_applicant appears in
-- the plan of any statement in store.c (EXPLAIN QUERY PLAN, docs/performance.md "Ingest").
-- Each still cost every new case an insert at a random place of its b-tree, and its pages in
-- the WAL at every commit. A statement that needs one of them comes with its own migration.
DROP INDEX cases_unit_due;
DROP INDEX cases_applicant;
