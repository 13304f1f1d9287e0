-- The bot's own short key for each video and character. A provider's id may be up to 512
-- characters of anything (LiteLLM's are ~140 of base64), while Discord's custom ids and
-- autocomplete values hold 100: buttons, pages and choices carry this key instead.
ALTER TABLE videos ADD COLUMN key INTEGER;
UPDATE videos SET key = rowid;
CREATE UNIQUE INDEX videos_key ON videos (key);

ALTER TABLE characters ADD COLUMN key INTEGER;
UPDATE characters SET key = rowid;
CREATE UNIQUE INDEX characters_key ON characters (key);
