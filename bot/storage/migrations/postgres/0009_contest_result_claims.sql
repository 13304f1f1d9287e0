-- PostgreSQL's copy of sqlite/0008_contest_result_claims.sql: a process posts a closed
-- contest's results only under its claim; a claim past expires_at (unix seconds) is free.
CREATE TABLE contest_result_claims (
    contest_id BIGINT PRIMARY KEY REFERENCES contests (id) ON DELETE CASCADE,
    holder     TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
