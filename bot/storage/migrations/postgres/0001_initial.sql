-- PostgreSQL's copy of sqlite/0001_initial.sql: the same tables and indexes. Discord's ids and
-- unix seconds need 64 bits (BIGINT); the bot's clock keeps fractions (DOUBLE PRECISION).
CREATE TABLE videos (
    id                TEXT PRIMARY KEY,
    owner_id          BIGINT NOT NULL,
    guild_id          BIGINT,
    channel_id        BIGINT NOT NULL,
    status_message_id BIGINT,
    kind              TEXT NOT NULL CHECK (kind IN ('create', 'remix', 'extend', 'edit')),
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
    cost              DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        DOUBLE PRECISION NOT NULL,
    completed_at      BIGINT,
    expires_at        BIGINT,
    delivered_at      DOUBLE PRECISION,
    deleted_at        DOUBLE PRECISION,
    CHECK (delivered_at IS NULL OR status IN ('completed', 'failed'))
);

CREATE INDEX videos_pending ON videos (created_at, id)
    WHERE delivered_at IS NULL AND deleted_at IS NULL;
CREATE INDEX videos_owner ON videos (owner_id, created_at);
CREATE INDEX videos_guild ON videos (guild_id, created_at);
CREATE INDEX videos_parent ON videos (parent_id);

CREATE TABLE characters (
    id         TEXT PRIMARY KEY,
    owner_id   BIGINT NOT NULL,
    guild_id   BIGINT,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX characters_owner ON characters (owner_id, created_at);

CREATE TABLE guild_settings (
    guild_id               BIGINT PRIMARY KEY,
    max_concurrent_jobs    INTEGER CHECK (max_concurrent_jobs >= 0),
    daily_seconds_per_user INTEGER CHECK (daily_seconds_per_user >= 0),
    monthly_budget         DOUBLE PRECISION CHECK (monthly_budget >= 0)
);
