-- MCP sign-in (deskconn as the OAuth authorization server of MCP clients).
-- mcp_clients: clients registered by dynamic client registration (RFC 7591);
-- clients identified by a metadata document URL are not stored.
CREATE TABLE mcp_clients (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    redirect_uris text NOT NULL, -- JSON array
    created_at    timestamptz NOT NULL
);
-- mcp_grants: a person's consent for one client on one connection, with
-- its scope. Revoking a grant kills every code and token issued under it.
CREATE TABLE mcp_grants (
    id            text PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    connection_id text NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    client_id     text NOT NULL,
    client_name   text NOT NULL,
    redirect_uri  text NOT NULL,
    resource      text NOT NULL,
    read_only     boolean NOT NULL DEFAULT false,
    toolset       text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);
CREATE INDEX mcp_grants_tenant ON mcp_grants (tenant_id);
-- mcp_tokens: authorization codes, access and refresh tokens, by the
-- SHA-256 of their value only.
CREATE TABLE mcp_tokens (
    hash           bytea PRIMARY KEY,
    grant_id       text NOT NULL REFERENCES mcp_grants(id) ON DELETE CASCADE,
    kind           text NOT NULL,
    code_challenge text NOT NULL DEFAULT '',
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    created_at     timestamptz NOT NULL
);
CREATE INDEX mcp_tokens_grant ON mcp_tokens (grant_id);
CREATE INDEX mcp_tokens_expires ON mcp_tokens (expires_at);
