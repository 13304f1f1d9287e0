-- Spending control: per-server limits, who may generate, a line of jobs waiting for a slot,
-- and the ledger of what every job reserved and cost.

-- A job waiting for a free slot: its row exists (it has a key for its Cancel button and a
-- card), its id is a placeholder, and it holds its reservation while it waits.
ALTER TABLE videos ADD COLUMN waiting_since REAL;
CREATE INDEX videos_waiting ON videos (waiting_since, key) WHERE waiting_since IS NOT NULL;
-- The concurrency limits count the unfinished jobs of a scope (a server, or 0 for DMs).
CREATE INDEX videos_unfinished ON videos (COALESCE(guild_id, 0), owner_id)
    WHERE status IN ('queued', 'in_progress');

-- Per-server overrides, replacing the table of 0001 (which nothing wrote): more limits, and
-- money in integer micro-dollars. NULL means the bot-wide default; -1 means no limit.
CREATE TABLE guild_limits (
    guild_id                INTEGER PRIMARY KEY,
    jobs_per_user           INTEGER CHECK (jobs_per_user = -1 OR jobs_per_user >= 1),
    jobs_per_guild          INTEGER CHECK (jobs_per_guild = -1 OR jobs_per_guild >= 1),
    daily_seconds_per_user  INTEGER CHECK (daily_seconds_per_user >= -1),
    daily_seconds_per_guild INTEGER CHECK (daily_seconds_per_guild >= -1),
    monthly_budget_micros   INTEGER CHECK (monthly_budget_micros >= -1)
);
INSERT INTO guild_limits (guild_id, jobs_per_user, daily_seconds_per_user, monthly_budget_micros)
    SELECT guild_id, NULLIF(max_concurrent_jobs, 0), daily_seconds_per_user,
           CAST(ROUND(monthly_budget * 1000000) AS INTEGER)
    FROM guild_settings;
DROP TABLE guild_settings;
ALTER TABLE guild_limits RENAME TO guild_settings;

-- Who may generate in a server: allowed channels and roles (none listed: everyone), and
-- blocked members.
CREATE TABLE guild_access (
    guild_id  INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('channel', 'role', 'blocked')),
    target_id INTEGER NOT NULL,
    PRIMARY KEY (guild_id, kind, target_id)
);

-- One entry per job that passed the limits, written in the transaction that wrote the job's
-- row, before any API call. Entries are never deleted: they are the cost history.
CREATE TABLE ledger (
    id                INTEGER PRIMARY KEY,
    -- SET NULL: a job's row may go (abandoned, cancelled); what it reserved or cost stays.
    video_key         INTEGER REFERENCES videos (key) ON DELETE SET NULL,
    scope_id          INTEGER NOT NULL,  -- the server, or 0 for direct messages
    user_id           INTEGER NOT NULL,
    model             TEXT NOT NULL,
    micros_per_second INTEGER NOT NULL CHECK (micros_per_second >= 0),  -- the price when asked
    seconds           INTEGER NOT NULL CHECK (seconds >= 0),  -- reserved, then as reported
    micros            INTEGER NOT NULL CHECK (micros >= 0),   -- USD x 1,000,000
    state             TEXT NOT NULL CHECK (state IN ('reserved', 'settled', 'released')),
    reserved_at       REAL NOT NULL,  -- unix seconds: the day and month the entry counts in
    closed_at         REAL            -- when it was settled or released
);
CREATE INDEX ledger_scope ON ledger (scope_id, reserved_at);
CREATE INDEX ledger_user ON ledger (scope_id, user_id, reserved_at);
-- A job holds at most one open reservation.
CREATE UNIQUE INDEX ledger_open ON ledger (video_key) WHERE state = 'reserved';

-- "Reset a member's day": their daily seconds count only what was reserved after this.
CREATE TABLE day_resets (
    scope_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    reset_at REAL NOT NULL,
    PRIMARY KEY (scope_id, user_id)
);
