-- PostgreSQL's copy of sqlite/0011_handoffs.sql.
ALTER TABLE videos ADD COLUMN handoff TEXT;
