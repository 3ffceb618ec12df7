-- 0010: an index on cases that no statement uses. cases_applicant appears in the plan of no
-- statement in store.c (EXPLAIN QUERY PLAN, docs/performance.md "Ingest"), yet it cost every
-- new case an insert at a random place of its b-tree, and its pages in the WAL at every commit.
-- (cases_unit_due stays: the unit-filtered case list and the KPI pass of a small subtree walk
-- it unit by unit.)
DROP INDEX cases_applicant;
