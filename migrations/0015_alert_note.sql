-- 0015: the note an officer may leave when acknowledging an alert (`dunghanctl alerts ack ID
-- --note TEXT`, POST /api/v1/alerts/{id}/ack {"note": ...}): what was done about it.
ALTER TABLE alerts ADD COLUMN acknowledged_note TEXT;
