-- Which process is posting a closed contest's results, until when (bot/contests/service.py).
-- With several processes on one database the results go out once: a process posts them only
-- under its claim, and a claim that ran out (its process died while posting) may be taken
-- again. One SQLite file has one bot process, which needs no claim; the table keeps both
-- schemas alike.
CREATE TABLE contest_result_claims (
    contest_id INTEGER PRIMARY KEY REFERENCES contests (id) ON DELETE CASCADE,
    holder     TEXT NOT NULL,
    expires_at REAL NOT NULL
);
