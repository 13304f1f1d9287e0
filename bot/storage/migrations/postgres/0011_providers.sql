-- PostgreSQL's copy of sqlite/0011_providers.sql.
ALTER TABLE videos ADD COLUMN provider TEXT NOT NULL DEFAULT 'default';
ALTER TABLE characters ADD COLUMN provider TEXT NOT NULL DEFAULT 'default';

CREATE TABLE guild_models (
    guild_id BIGINT NOT NULL,
    model    TEXT NOT NULL,
    PRIMARY KEY (guild_id, model)
);
