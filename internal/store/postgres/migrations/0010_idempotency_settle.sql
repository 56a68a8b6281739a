-- Idempotency records keep, sealed, what their action's settler needs of
-- the input, so that unknown outcomes are settled in the background
-- without waiting for the client's retry; and how often that was tried.
-- NULL settle_input: the record is settled only on a retry, as before.

ALTER TABLE idempotency_records ADD COLUMN settle_input BYTEA;
ALTER TABLE idempotency_records ADD COLUMN settle_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE idempotency_records ADD COLUMN next_settle_at TIMESTAMPTZ;
