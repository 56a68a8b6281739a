-- Scoped API keys: a key may be read-only, limited to one connection and
-- to some actions, and expire. Existing keys keep their whole-tenant reach.
ALTER TABLE api_keys ADD COLUMN read_only boolean NOT NULL DEFAULT false;
ALTER TABLE api_keys ADD COLUMN connection_id text NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN actions text NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
