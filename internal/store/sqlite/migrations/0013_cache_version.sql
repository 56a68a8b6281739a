-- One number that changes with every change to the rows deskconn serves
-- from memory between reads (connections and API keys; see
-- store.VersionedCache), whoever makes it: this process, another one on the
-- same file, or the sqlite3 shell. It replaces PRAGMA data_version, which
-- every commit changed, so that each write's own audit row made the next
-- call read its API key and connection again.
--
-- A migration that rebuilds either table (create, copy, drop, rename) must
-- create its three triggers again.

CREATE TABLE cache_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO cache_version (id, version) VALUES (1, 0);

CREATE TRIGGER connections_cache_insert AFTER INSERT ON connections
BEGIN UPDATE cache_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER connections_cache_update AFTER UPDATE ON connections
BEGIN UPDATE cache_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER connections_cache_delete AFTER DELETE ON connections
BEGIN UPDATE cache_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER api_keys_cache_insert AFTER INSERT ON api_keys
BEGIN UPDATE cache_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER api_keys_cache_update AFTER UPDATE ON api_keys
BEGIN UPDATE cache_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER api_keys_cache_delete AFTER DELETE ON api_keys
BEGIN UPDATE cache_version SET version = version + 1 WHERE id = 1; END;
