-- Write marks keyed by their primary key alone (WITHOUT ROWID): the row
-- lives in the key's b-tree, so a write's mark changes one page fewer in
-- the commit that every audited write waits for. Same columns, rows and
-- index as 0011.

CREATE TABLE write_marks_0014 (
    connection_id TEXT NOT NULL,
    key           TEXT NOT NULL,
    action        TEXT NOT NULL,
    api_key_id    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (connection_id, key)
) WITHOUT ROWID;
INSERT INTO write_marks_0014 (connection_id, key, action, api_key_id, created_at)
    SELECT connection_id, key, action, api_key_id, created_at FROM write_marks;
DROP TABLE write_marks;
ALTER TABLE write_marks_0014 RENAME TO write_marks;
CREATE INDEX write_marks_created ON write_marks(created_at);
