-- Deployment-wide settings shared by every process on this database, such
-- as the base URL `deskconn serve` answers on (store.SettingBaseURL).
CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
