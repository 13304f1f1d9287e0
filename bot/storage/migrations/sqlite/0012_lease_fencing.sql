-- A fencing number per job (bot/storage/leases.py), kept in both schemas alike: one SQLite
-- file has one bot process, which takes no leases.
ALTER TABLE job_leases ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
