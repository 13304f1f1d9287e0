-- PostgreSQL's copy of sqlite/0005_write_ahead_and_delivery.sql.
ALTER TABLE videos ADD COLUMN submitting_since DOUBLE PRECISION;
ALTER TABLE videos ADD COLUMN with_image INTEGER NOT NULL DEFAULT 0 CHECK (with_image IN (0, 1));
ALTER TABLE videos ADD COLUMN delivery_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE videos ADD COLUMN delivery_retry_at DOUBLE PRECISION;

CREATE INDEX videos_submitting ON videos (submitting_since) WHERE submitting_since IS NOT NULL;
