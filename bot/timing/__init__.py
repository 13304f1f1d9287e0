"""Waiting without losing a cancel: stopping background tasks. No Discord."""
