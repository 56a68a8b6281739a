-- The event pipeline: per-connection event log with a cursor that is never
-- reused, push subscriptions (sealed signing secret) and their deliveries,
-- poll cursors, event sources (hash of the receiving URL's token only) and
-- leases.

CREATE TABLE event_seqs (
    connection_id text PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
    last_seq      bigint NOT NULL
);

CREATE TABLE events (
    connection_id text NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    seq           bigint NOT NULL,
    id            text NOT NULL UNIQUE,
    source_key    text NOT NULL,
    type          text NOT NULL,
    occurred_at   timestamptz NOT NULL,
    received_at   timestamptz NOT NULL,
    body          bytea NOT NULL,
    PRIMARY KEY (connection_id, seq),
    UNIQUE (connection_id, source_key)
);
CREATE INDEX events_received ON events(received_at);

CREATE TABLE subscriptions (
    id            text PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    connection_id text NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    url           text NOT NULL,
    types         text[] NOT NULL,
    sealed_secret bytea NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX subscriptions_connection ON subscriptions(connection_id);

CREATE TABLE deliveries (
    id              bigserial PRIMARY KEY,
    subscription_id text NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    connection_id   text NOT NULL,
    event_seq       bigint NOT NULL,
    state           text NOT NULL,
    attempts        integer NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    lease_owner     text NOT NULL,
    lease_until     timestamptz NOT NULL,
    last_error      text NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (subscription_id, event_seq),
    FOREIGN KEY (connection_id, event_seq) REFERENCES events(connection_id, seq) ON DELETE CASCADE
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';

CREATE TABLE event_cursors (
    connection_id text NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    name          text NOT NULL,
    value         text NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (connection_id, name)
);

CREATE TABLE event_sources (
    connection_id text PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
    tenant_id     text NOT NULL,
    mode          text NOT NULL,
    token_hash    bytea UNIQUE,
    webhook_id    text NOT NULL,
    last_event_at timestamptz,
    last_error    text NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE leases (
    name       text PRIMARY KEY,
    owner      text NOT NULL,
    expires_at timestamptz NOT NULL
);
