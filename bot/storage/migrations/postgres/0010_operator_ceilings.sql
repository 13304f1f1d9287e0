-- PostgreSQL's copy of sqlite/0010_operator_ceilings.sql.
CREATE TABLE guild_ceilings (
    guild_id                BIGINT PRIMARY KEY,
    jobs_per_user           INTEGER CHECK (jobs_per_user = -1 OR jobs_per_user >= 1),
    jobs_per_guild          INTEGER CHECK (jobs_per_guild = -1 OR jobs_per_guild >= 1),
    daily_seconds_per_user  BIGINT CHECK (daily_seconds_per_user >= -1),
    daily_seconds_per_guild BIGINT CHECK (daily_seconds_per_guild >= -1),
    monthly_budget_micros   BIGINT CHECK (monthly_budget_micros >= -1)
);

CREATE INDEX ledger_month ON ledger (reserved_at);
