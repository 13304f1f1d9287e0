-- Prompt rules (/limits rules): a server's blocked words and globs, whether it allows videos
-- only in age-restricted channels, and how many prompts its rules and checks refused a month.
-- A rule is stored folded (bot/spending/rules.py parse_rule): one spelling, one row.
CREATE TABLE prompt_rules (
    guild_id INTEGER NOT NULL,
    rule     TEXT NOT NULL CHECK (length(rule) BETWEEN 1 AND 60),
    added_by INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, rule)
);

CREATE TABLE prompt_settings (
    guild_id            INTEGER PRIMARY KEY,
    age_restricted_only INTEGER NOT NULL DEFAULT 0 CHECK (age_restricted_only IN (0, 1))
);

-- One row per server, UTC month (unix seconds of its start) and reason; a refusal adds 1.
-- The provider's own refusals are jobs (failed, error_code moderation_blocked), counted there.
CREATE TABLE prompt_refusals (
    guild_id INTEGER NOT NULL,
    month    INTEGER NOT NULL,
    reason   TEXT NOT NULL CHECK (reason IN ('rule', 'moderation', 'age', 'unchecked')),
    count    INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (guild_id, month, reason)
);
