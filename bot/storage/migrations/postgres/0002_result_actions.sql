-- PostgreSQL's copy of sqlite/0002_result_actions.sql.
CREATE INDEX videos_status_message ON videos (status_message_id)
    WHERE status_message_id IS NOT NULL;

CREATE TABLE reaction_claims (
    message_id BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    emoji      TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);
