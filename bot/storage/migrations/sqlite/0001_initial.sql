-- Video jobs the bot started. The API knows nothing of owners or guilds, so scope lives here.
CREATE TABLE videos (
    id                TEXT PRIMARY KEY,  -- the API's id
    owner_id          INTEGER NOT NULL,
    guild_id          INTEGER,           -- NULL: asked for in a DM
    channel_id        INTEGER NOT NULL,
    status_message_id INTEGER,           -- NULL until the status card is posted
    kind              TEXT NOT NULL CHECK (kind IN ('create', 'remix', 'extend', 'edit')),
    -- SET NULL so that pruning an old parent never takes its descendants with it.
    parent_id         TEXT REFERENCES videos (id) ON DELETE SET NULL,
    prompt            TEXT NOT NULL,
    model             TEXT NOT NULL,
    size              TEXT NOT NULL,
    seconds           TEXT NOT NULL,
    status            TEXT NOT NULL
                      CHECK (status IN ('queued', 'in_progress', 'completed', 'failed')),
    progress          INTEGER NOT NULL DEFAULT 0,
    error_code        TEXT,
    error_message     TEXT,
    cost              REAL NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,  -- unix seconds, as the API reports them
    updated_at        REAL NOT NULL,     -- unix seconds, the bot's clock (so are the three below)
    completed_at      INTEGER,
    expires_at        INTEGER,
    delivered_at      REAL,
    deleted_at        REAL,              -- soft delete: the row keeps lineage and spend
    -- Only a finished job can be delivered, so "undelivered" covers every unfinished job too.
    CHECK (delivered_at IS NULL OR status IN ('completed', 'failed'))
);

-- What the tracker loads on start: every job not yet delivered.
CREATE INDEX videos_pending ON videos (created_at, id)
    WHERE delivered_at IS NULL AND deleted_at IS NULL;
CREATE INDEX videos_owner ON videos (owner_id, created_at);
CREATE INDEX videos_guild ON videos (guild_id, created_at);
-- Lineage lookups, and what SQLite scans on deleting a parent.
CREATE INDEX videos_parent ON videos (parent_id);

-- Characters belong to their creator; guild_id records where one was made.
CREATE TABLE characters (
    id         TEXT PRIMARY KEY,  -- the API's id
    owner_id   INTEGER NOT NULL,
    guild_id   INTEGER,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX characters_owner ON characters (owner_id, created_at);

-- Per-guild overrides; NULL in a limit means the bot-wide default from the settings applies.
CREATE TABLE guild_settings (
    guild_id               INTEGER PRIMARY KEY,
    max_concurrent_jobs    INTEGER CHECK (max_concurrent_jobs >= 0),  -- per user
    daily_seconds_per_user INTEGER CHECK (daily_seconds_per_user >= 0),
    monthly_budget         REAL CHECK (monthly_budget >= 0)
);
