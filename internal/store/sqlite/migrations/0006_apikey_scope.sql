-- Scoped API keys: a key may be read-only, limited to one connection and
-- to some actions, and expire. Existing keys keep their whole-tenant reach.
ALTER TABLE api_keys ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN connection_id TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN actions TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
