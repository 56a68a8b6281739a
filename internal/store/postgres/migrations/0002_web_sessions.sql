-- Login links and web sessions of the connect page, shared by every
-- replica. Only SHA-256 hashes of link tokens and session ids are stored.

CREATE TABLE login_links (
    hash       bytea PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX login_links_expires ON login_links(expires_at);

CREATE TABLE web_sessions (
    hash       bytea PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    csrf       text NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions(expires_at);
