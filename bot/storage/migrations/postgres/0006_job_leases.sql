-- Which process follows which unfinished job (bot/leases.py). A holder renews its leases while
-- it lives; a lease past expires_at (unix seconds) is free for any process to take over.
CREATE TABLE job_leases (
    video_key  BIGINT PRIMARY KEY REFERENCES videos (key) ON DELETE CASCADE,
    holder     TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);

CREATE INDEX job_leases_holder ON job_leases (holder);
