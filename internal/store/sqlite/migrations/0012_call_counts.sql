-- Per-connection, per-minute counts of every action call, reads included,
-- for the console's "calls and errors in the last hour". Each replica
-- flushes its in-memory counts as increments (upserts that add), so rows
-- sum what every replica saw. No foreign key: a flush for a connection
-- deleted meanwhile must not fail; rows are purged after two days.

CREATE TABLE call_counts (
    tenant_id     TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    minute        INTEGER NOT NULL,
    calls         INTEGER NOT NULL,
    errors        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, connection_id, minute)
);
CREATE INDEX call_counts_minute ON call_counts(minute);
