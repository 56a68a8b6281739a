-- The event pipeline: per-connection event log with a cursor that is never
-- reused, push subscriptions (sealed signing secret) and their deliveries,
-- poll cursors, event sources (hash of the receiving URL's token only) and
-- leases. Times are Unix microseconds.

CREATE TABLE event_seqs (
    connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
    last_seq      INTEGER NOT NULL
);

CREATE TABLE events (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    id            TEXT NOT NULL UNIQUE,
    source_key    TEXT NOT NULL,
    type          TEXT NOT NULL,
    occurred_at   INTEGER NOT NULL,
    received_at   INTEGER NOT NULL,
    body          BLOB NOT NULL,
    PRIMARY KEY (connection_id, seq),
    UNIQUE (connection_id, source_key)
);
CREATE INDEX events_received ON events(received_at);

CREATE TABLE subscriptions (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    url           TEXT NOT NULL,
    types         TEXT NOT NULL,
    sealed_secret BLOB NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX subscriptions_connection ON subscriptions(connection_id);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    connection_id   TEXT NOT NULL,
    event_seq       INTEGER NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT NOT NULL,
    lease_until     INTEGER NOT NULL,
    last_error      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (subscription_id, event_seq),
    FOREIGN KEY (connection_id, event_seq) REFERENCES events(connection_id, seq) ON DELETE CASCADE
);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);

CREATE TABLE event_cursors (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    value         TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (connection_id, name)
);

CREATE TABLE event_sources (
    connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
    tenant_id     TEXT NOT NULL,
    mode          TEXT NOT NULL,
    token_hash    BLOB UNIQUE,
    webhook_id    TEXT NOT NULL,
    last_event_at INTEGER,
    last_error    TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
