-- Write marks: the changes deskconn made in Zoho Desk through actions,
-- written with their audit record, so that the events Zoho reports for
-- them carry the action as their actor. Purged with the event log. No
-- foreign key: a write may be audited for a connection deleted meanwhile.
-- Times are Unix microseconds.

CREATE TABLE write_marks (
    connection_id TEXT NOT NULL,
    key           TEXT NOT NULL,
    action        TEXT NOT NULL,
    api_key_id    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (connection_id, key)
);
CREATE INDEX write_marks_created ON write_marks(created_at);
