-- The audit log's retention deletes by time (store.PurgeAudit).
CREATE INDEX audit_log_time ON audit_log(time);
