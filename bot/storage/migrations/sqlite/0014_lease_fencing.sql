-- A fencing number per job (bot/storage/leases.py), kept in both schemas alike: one SQLite
-- file has one bot process, which takes no leases.
ALTER TABLE job_leases ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;

-- The token of a job's deferred reply, kept while its first card is not posted: a restarted
-- process resolves that reply (see the PostgreSQL migration).
CREATE TABLE job_replies (
    video_key  INTEGER PRIMARY KEY REFERENCES videos (key) ON DELETE CASCADE,
    token      TEXT NOT NULL,
    expires_at REAL NOT NULL
);
