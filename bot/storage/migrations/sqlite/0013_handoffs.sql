-- How a job came to be made where it was, when the bot itself had to step in: its create sent
-- once more after the provider's list proved the first made nothing, or moved on from a
-- provider that refused it without making anything (bot/jobs/handoff.py reads it). NULL: made
-- by the first create, as asked.
ALTER TABLE videos ADD COLUMN handoff TEXT;
