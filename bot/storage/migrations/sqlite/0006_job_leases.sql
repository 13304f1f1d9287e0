-- Which process follows which unfinished job (bot/leases.py). One SQLite file has one bot
-- process, which follows every job without leases; the table keeps both schemas alike.
CREATE TABLE job_leases (
    video_key  INTEGER PRIMARY KEY REFERENCES videos (key) ON DELETE CASCADE,
    holder     TEXT NOT NULL,
    expires_at REAL NOT NULL
);

CREATE INDEX job_leases_holder ON job_leases (holder);
