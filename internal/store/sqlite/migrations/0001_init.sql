-- deskconn schema, SQLite dialect. Times are Unix microseconds (UTC); NULL
-- means "not set". Sealed columns hold internal/seal ciphertexts; lists and
-- maps are JSON text.

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    hash       BLOB NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used  INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id);

CREATE TABLE connections (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    client_id            TEXT NOT NULL,
    sealed_client_secret BLOB,
    scopes               TEXT NOT NULL,
    status               TEXT NOT NULL,
    location             TEXT NOT NULL,
    accounts_server      TEXT NOT NULL,
    desk_base_url        TEXT NOT NULL,
    org_id               TEXT NOT NULL,
    org_name             TEXT NOT NULL,
    org_choices          BLOB,
    sealed_refresh_token BLOB,
    sealed_access_token  BLOB,
    access_expiry        INTEGER,
    token_requests       TEXT NOT NULL,
    user_id              TEXT NOT NULL,
    user_email           TEXT NOT NULL,
    user_name            TEXT NOT NULL,
    policies             TEXT NOT NULL,
    last_error           TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE oauth_states (
    hash          BLOB PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    redirect_to   TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX oauth_states_expires ON oauth_states(expires_at);

CREATE TABLE idempotency_records (
    tenant_id     TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    action        TEXT NOT NULL,
    key           TEXT NOT NULL,
    input_hash    BLOB,
    state         TEXT NOT NULL,
    result        BLOB,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, connection_id, action, key)
);
CREATE INDEX idempotency_records_expires ON idempotency_records(expires_at);

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    time            INTEGER NOT NULL,
    tenant_id       TEXT NOT NULL,
    api_key_id      TEXT NOT NULL,
    connection_id   TEXT NOT NULL,
    action          TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    zoho_request_id TEXT NOT NULL,
    duration_ns     INTEGER NOT NULL,
    detail          TEXT NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log(tenant_id, connection_id, id);

-- A lease per connection for WithRefreshLock across processes.
CREATE TABLE refresh_locks (
    connection_id TEXT PRIMARY KEY,
    owner         TEXT NOT NULL,
    expires_at    INTEGER NOT NULL
);
