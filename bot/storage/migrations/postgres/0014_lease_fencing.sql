-- A fencing number per job (bot/storage/leases.py): every grant of the job's lease to a holder
-- that did not hold it live raises it, and a holder's writes about the job (its delivery
-- recorded, its card's place) go through only while the number is still the one it was granted.
ALTER TABLE job_leases ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;

-- The token of a job's deferred reply ("thinking…"), kept from just before its billable call
-- until its card is posted, for a process taking the job over to resolve that reply. Usable
-- for 15 minutes after the interaction (expires_at, unix seconds); a secret, never logged.
CREATE TABLE job_replies (
    video_key  BIGINT PRIMARY KEY REFERENCES videos (key) ON DELETE CASCADE,
    token      TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
