-- A fencing number per job (bot/storage/leases.py): every grant of the job's lease to a holder
-- that did not hold it live raises it, and a holder's writes about the job (its delivery
-- recorded, its card's place) go through only while the number is still the one it was granted.
ALTER TABLE job_leases ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;
