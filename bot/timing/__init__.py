"""Time without Discord: backoff, cancellation-safe waits, stopping background tasks."""
