-- Write-ahead: a job's row exists before the billable call that creates it, so a crash during
-- that call leaves a row to reconcile, never a job the bot does not know. Until the provider
-- has answered, `id` holds a placeholder and `submitting_since` when the call was sent.
ALTER TABLE videos ADD COLUMN submitting_since REAL;
-- Whether the request carried a reference image (a retry after a restart cannot resend it).
ALTER TABLE videos ADD COLUMN with_image INTEGER NOT NULL DEFAULT 0 CHECK (with_image IN (0, 1));
-- Delivery retries survive restarts: how many attempts failed, and when to try again.
ALTER TABLE videos ADD COLUMN delivery_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE videos ADD COLUMN delivery_retry_at REAL;

CREATE INDEX videos_submitting ON videos (submitting_since) WHERE submitting_since IS NOT NULL;
