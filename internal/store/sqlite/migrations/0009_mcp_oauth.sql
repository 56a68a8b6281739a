-- MCP sign-in (deskconn as the OAuth authorization server of MCP clients).
-- mcp_clients: clients registered by dynamic client registration (RFC 7591);
-- clients identified by a metadata document URL are not stored.
CREATE TABLE mcp_clients (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    redirect_uris TEXT NOT NULL, -- JSON array
    created_at    INTEGER NOT NULL
);
-- mcp_grants: a person's consent for one client on one connection, with
-- its scope. Revoking a grant kills every code and token issued under it.
CREATE TABLE mcp_grants (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    client_id     TEXT NOT NULL,
    client_name   TEXT NOT NULL,
    redirect_uri  TEXT NOT NULL,
    resource      TEXT NOT NULL,
    read_only     INTEGER NOT NULL DEFAULT 0,
    toolset       TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX mcp_grants_tenant ON mcp_grants (tenant_id);
-- mcp_tokens: authorization codes, access and refresh tokens, by the
-- SHA-256 of their value only.
CREATE TABLE mcp_tokens (
    hash           BLOB PRIMARY KEY,
    grant_id       TEXT NOT NULL REFERENCES mcp_grants(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    code_challenge TEXT NOT NULL DEFAULT '',
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE INDEX mcp_tokens_grant ON mcp_tokens (grant_id);
CREATE INDEX mcp_tokens_expires ON mcp_tokens (expires_at);
