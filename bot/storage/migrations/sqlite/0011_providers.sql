-- Several providers side by side: every job and character records the provider that made it,
-- and every later call about it goes there. Rows made before are the one provider configured until
-- now, which the single-provider settings still name `default` (bot/videoapi/providers.py).
ALTER TABLE videos ADD COLUMN provider TEXT NOT NULL DEFAULT 'default';
ALTER TABLE characters ADD COLUMN provider TEXT NOT NULL DEFAULT 'default';

-- The models a server may use (/limits models); a server with no row may use every model the
-- operator offers. A model is named as the picker names it (its equivalence group, if any).
CREATE TABLE guild_models (
    guild_id INTEGER NOT NULL,
    model    TEXT NOT NULL,
    PRIMARY KEY (guild_id, model)
);
