-- With several bot processes on one database, one of them at a time asks the provider about
-- every process's jobs (bot/leases.py): the holder of this one row, until expires_at (unix
-- seconds). The others read their own jobs' changes from `videos`, by updated_at.
CREATE TABLE tracker_leader (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    holder     TEXT NOT NULL,
    expires_at REAL NOT NULL
);

CREATE INDEX videos_updated_at ON videos (updated_at);
