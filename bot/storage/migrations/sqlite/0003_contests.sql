-- Prompt contests. A contest's phase follows from its times and its closed/cancelled marks,
-- so a restart (or a second process) reads the same phase as the one that wrote it.
CREATE TABLE contests (
    id                  INTEGER PRIMARY KEY,
    guild_id            INTEGER NOT NULL,
    channel_id          INTEGER NOT NULL,  -- where the announcement and the results go
    announcement_id     INTEGER,           -- NULL until the announcement is posted
    thread_id           INTEGER,           -- the entries' thread, opened on the announcement
    results_message_id  INTEGER,
    created_by          INTEGER NOT NULL,
    theme               TEXT NOT NULL,
    max_entries         INTEGER NOT NULL CHECK (max_entries >= 1),  -- per member
    vote_budget         INTEGER NOT NULL CHECK (vote_budget >= 1),  -- per member
    live_counts         INTEGER NOT NULL DEFAULT 0 CHECK (live_counts IN (0, 1)),
    -- Unix seconds, the bot's clock.
    starts_at           REAL NOT NULL,
    submissions_end_at  REAL NOT NULL,
    voting_end_at       REAL NOT NULL,
    voting_announced_at REAL,  -- the announcement was switched to "voting is open"
    closed_at           REAL,  -- set by exactly one closer, who then posts the results
    cancelled_at        REAL,
    CHECK (starts_at < submissions_end_at AND submissions_end_at < voting_end_at),
    CHECK (closed_at IS NULL OR cancelled_at IS NULL)
);

CREATE INDEX contests_guild ON contests (guild_id, starts_at);
-- What the scheduler reads: the contests still waiting for a deadline.
CREATE INDEX contests_open ON contests (voting_end_at)
    WHERE closed_at IS NULL AND cancelled_at IS NULL;

CREATE TABLE contest_entries (
    id         INTEGER PRIMARY KEY,  -- also the tie-break: the earlier entry ranks first
    contest_id INTEGER NOT NULL REFERENCES contests (id) ON DELETE CASCADE,
    -- SET NULL: pruning a video must not rewrite a finished contest's results.
    video_id   TEXT REFERENCES videos (id) ON DELETE SET NULL,
    author_id  INTEGER NOT NULL,
    prompt     TEXT NOT NULL,        -- as entered, for the results
    message_id INTEGER,              -- the post in the thread carrying the Vote button
    created_at REAL NOT NULL,
    UNIQUE (contest_id, video_id)
);

CREATE INDEX contest_entries_author ON contest_entries (contest_id, author_id);

-- One row per counted vote: the key makes a double count impossible, whatever races.
CREATE TABLE contest_votes (
    entry_id   INTEGER NOT NULL REFERENCES contest_entries (id) ON DELETE CASCADE,
    voter_id   INTEGER NOT NULL,
    contest_id INTEGER NOT NULL REFERENCES contests (id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    PRIMARY KEY (entry_id, voter_id)
);

-- A member's budget is counted per contest.
CREATE INDEX contest_votes_voter ON contest_votes (contest_id, voter_id);

-- Every Vote click seen, by interaction id: a replayed event finds its row and changes nothing
-- (pressing again toggles, so a replay must not count as a second press).
CREATE TABLE contest_vote_clicks (
    interaction_id INTEGER PRIMARY KEY,
    contest_id     INTEGER NOT NULL REFERENCES contests (id) ON DELETE CASCADE
);

-- Who may run contests besides members with Manage Server.
CREATE TABLE contest_settings (
    guild_id        INTEGER PRIMARY KEY,
    manager_role_id INTEGER
);
