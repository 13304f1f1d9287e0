-- PostgreSQL's copy of sqlite/0012_prompt_rules.sql; Discord's ids and unix seconds are BIGINT.
CREATE TABLE prompt_rules (
    guild_id BIGINT NOT NULL,
    rule     TEXT NOT NULL CHECK (length(rule) BETWEEN 1 AND 60),
    added_by BIGINT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (guild_id, rule)
);

CREATE TABLE prompt_settings (
    guild_id            BIGINT PRIMARY KEY,
    age_restricted_only INTEGER NOT NULL DEFAULT 0 CHECK (age_restricted_only IN (0, 1))
);

CREATE TABLE prompt_refusals (
    guild_id BIGINT NOT NULL,
    month    BIGINT NOT NULL,
    reason   TEXT NOT NULL CHECK (reason IN ('rule', 'moderation', 'age', 'unchecked')),
    count    BIGINT NOT NULL CHECK (count >= 0),
    PRIMARY KEY (guild_id, month, reason)
);
