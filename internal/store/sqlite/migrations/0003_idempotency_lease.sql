-- Idempotency records gain an owner lease and the moment their request was
-- dispatched to Zoho, so that a record whose process died before sending
-- anything can be run again, and a record held by a live process is never
-- taken over. Times are Unix microseconds; NULL means "never".
--
-- Records written before this migration are taken as dispatched (their
-- request may have reached Zoho): they are never run again blindly.

ALTER TABLE idempotency_records ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_records ADD COLUMN heartbeat_at INTEGER;
ALTER TABLE idempotency_records ADD COLUMN dispatched_at INTEGER;
UPDATE idempotency_records SET dispatched_at = created_at WHERE state IN ('pending', 'unknown');
