-- The operator's ceilings: the environment's limits cap every server, and a server the
-- operator chose (`videobot limits`, never a Discord command) may have its own. Columns as in
-- guild_settings: NULL means the environment's value, -1 means no ceiling.
CREATE TABLE guild_ceilings (
    guild_id                INTEGER PRIMARY KEY,
    jobs_per_user           INTEGER CHECK (jobs_per_user = -1 OR jobs_per_user >= 1),
    jobs_per_guild          INTEGER CHECK (jobs_per_guild = -1 OR jobs_per_guild >= 1),
    daily_seconds_per_user  INTEGER CHECK (daily_seconds_per_user >= -1),
    daily_seconds_per_guild INTEGER CHECK (daily_seconds_per_guild >= -1),
    monthly_budget_micros   INTEGER CHECK (monthly_budget_micros >= -1)
);

-- The bot-wide monthly budget sums every scope's month at each admission.
CREATE INDEX ledger_month ON ledger (reserved_at);
