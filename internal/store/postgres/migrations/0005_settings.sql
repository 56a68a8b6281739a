-- Deployment-wide settings shared by every replica, such as the base URL
-- `deskconn serve` answers on (store.SettingBaseURL).
CREATE TABLE settings (
    name       text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL
);
