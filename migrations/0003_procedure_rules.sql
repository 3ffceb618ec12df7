-- 0003: procedure deadline rules — same-day cut-off, legal extension — and what a case keeps
-- of them: whether it was extended, and the office time of its ended pauses (which an
-- extension must keep excluded).

ALTER TABLE procedures ADD COLUMN extended_days REAL NOT NULL DEFAULT 0 CHECK (extended_days >= 0);
ALTER TABLE procedures ADD COLUMN cutoff TEXT;
ALTER TABLE procedures ADD COLUMN level TEXT;
ALTER TABLE procedures ADD COLUMN agency TEXT;

ALTER TABLE cases ADD COLUMN extended INTEGER NOT NULL DEFAULT 0 CHECK (extended IN (0, 1));
ALTER TABLE cases ADD COLUMN paused_total INTEGER NOT NULL DEFAULT 0;
