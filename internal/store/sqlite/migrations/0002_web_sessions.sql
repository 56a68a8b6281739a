-- Login links and web sessions of the connect page, shared by every process
-- on this database. Only SHA-256 hashes of link tokens and session ids are
-- stored. Times are Unix microseconds.

CREATE TABLE login_links (
    hash       BLOB PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX login_links_expires ON login_links(expires_at);

CREATE TABLE web_sessions (
    hash       BLOB PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions(expires_at);
