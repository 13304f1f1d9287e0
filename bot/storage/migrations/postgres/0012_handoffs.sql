-- PostgreSQL's copy of sqlite/0012_handoffs.sql.
ALTER TABLE videos ADD COLUMN handoff TEXT;
