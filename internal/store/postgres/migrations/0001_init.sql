-- deskconn schema, Postgres dialect. Tables are created in the first schema
-- of the search_path. Sealed columns hold internal/seal ciphertexts.

CREATE TABLE tenants (
    id         text PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name       text NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    prefix     text NOT NULL,
    created_at timestamptz NOT NULL,
    last_used  timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id);

CREATE TABLE connections (
    id                   text PRIMARY KEY,
    tenant_id            text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name                 text NOT NULL,
    client_id            text NOT NULL,
    sealed_client_secret bytea,
    scopes               text[] NOT NULL,
    status               text NOT NULL,
    location             text NOT NULL,
    accounts_server      text NOT NULL,
    desk_base_url        text NOT NULL,
    org_id               text NOT NULL,
    org_name             text NOT NULL,
    org_choices          bytea,
    sealed_refresh_token bytea,
    sealed_access_token  bytea,
    access_expiry        timestamptz,
    token_requests       timestamptz[] NOT NULL,
    user_id              text NOT NULL,
    user_email           text NOT NULL,
    user_name            text NOT NULL,
    policies             jsonb NOT NULL,
    last_error           text NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE oauth_states (
    hash          bytea PRIMARY KEY,
    tenant_id     text NOT NULL,
    connection_id text NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    redirect_to   text NOT NULL,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX oauth_states_expires ON oauth_states(expires_at);

CREATE TABLE idempotency_records (
    tenant_id     text NOT NULL,
    connection_id text NOT NULL,
    action        text NOT NULL,
    key           text NOT NULL,
    input_hash    bytea,
    state         text NOT NULL,
    result        bytea,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, connection_id, action, key)
);
CREATE INDEX idempotency_records_expires ON idempotency_records(expires_at);

CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time            timestamptz NOT NULL,
    tenant_id       text NOT NULL,
    api_key_id      text NOT NULL,
    connection_id   text NOT NULL,
    action          text NOT NULL,
    outcome         text NOT NULL,
    zoho_request_id text NOT NULL,
    duration_ns     bigint NOT NULL,
    detail          text NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log(tenant_id, connection_id, id);
