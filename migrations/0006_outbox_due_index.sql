-- 0006: the index the sender's pick-up query needs. It orders pending rows by when they are
-- due, coalesce(next_attempt_at, not_before); without this index every pick-up read and sorted
-- the whole backlog (bench_deliver: 8 ms a pick-up with 20 000 rows waiting).
CREATE INDEX outbox_due ON outbox (status, coalesce(next_attempt_at, not_before), id);
DROP INDEX outbox_next;
