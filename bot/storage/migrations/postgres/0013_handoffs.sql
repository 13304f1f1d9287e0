-- PostgreSQL's copy of sqlite/0013_handoffs.sql.
ALTER TABLE videos ADD COLUMN handoff TEXT;
