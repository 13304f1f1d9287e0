-- Reactions and buttons find a job by the message its card is on.
CREATE INDEX videos_status_message ON videos (status_message_id)
    WHERE status_message_id IS NOT NULL;

-- One row per reaction that started (or was refused) a job: a replayed gateway event finds its
-- row already there and starts nothing.
CREATE TABLE reaction_claims (
    message_id INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    emoji      TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);
